import { ModelFormatError } from '../src/core/errors';
import type { ImportFile } from './model-import';

/**
 * A model's labels from the files given with it: labels.json (an array of strings), else the first
 * of `textFiles` present, one label a line; null when there are none. `stripIndex` drops a leading
 * index (Teachable Machine's labels.txt, from Keras exports, prefixes each label with it).
 */
export function readLabelFiles(files: ReadonlyMap<string, ImportFile>, textFiles: readonly string[], stripIndex = false): string[] | null {
  const asJson = files.get('labels.json');
  if (asJson) {
    let labels: unknown;
    try {
      labels = JSON.parse(new TextDecoder().decode(asJson.bytes));
    } catch {
      throw new ModelFormatError('labels.json is not valid JSON');
    }
    if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw new ModelFormatError('labels.json must be an array of strings');
    return labels;
  }
  const asText = textFiles.map((name) => files.get(name)).find((f) => f !== undefined);
  if (!asText) return null;
  const lines = new TextDecoder().decode(asText.bytes).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return stripIndex ? lines.map((l) => l.replace(/^\d+\s+/, '')) : lines;
}
