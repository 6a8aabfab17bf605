import { LabelsChoiceError, ModelFormatError } from '../src/core/errors';
import { isNoticeFile, MANIFEST_FILE } from '../src/core/model-manifest';
import type { ImportFile } from './prepared-model';

/**
 * A model's labels from the files given with it, whatever their name: one text file (a label a
 * line) or JSON file (an array of names, or an index → name object) whose entries match the
 * model's outputs is the labels (`inat_insect_labels.txt`, `classes.txt`, `synset.txt`,
 * `imagenet_class_index.json`…). Several that fit: labels.json, then labels.txt, as always; else
 * the user is asked (LabelsChoiceError). Files that are something else (the model's own JSON,
 * configs, licences) are never taken.
 */

export interface FoundLabels {
  labels: string[];
  /** The file they came from. */
  file: string;
}

/** How a model without labels is described, in its list entry's preprocessing (taken out when labels are added). */
export const NUMBERED_NOTE = 'no labels came with it: its classes are numbered';

/** The names that always meant "the labels", first among several candidates. */
const CANONICAL = ['labels.json', 'labels.txt'];
/** JSON and text files that come with models and are not labels. */
const NOT_LABELS = new Set([
  'model.json',
  'metadata.json',
  MANIFEST_FILE,
  'config.json',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'requirements.txt',
]);
const LABEL_FILE = /\.(txt|json|names|labels)$/i;

/** A line's leading class number ("0 cat", "12: dog") or ImageNet wnid ("n01440764 tench"). */
const INDEX_PREFIX = /^(\d+)\s*[:,]?\s+/;
const WNID_PREFIX = /^n\d{8}\s+/;

function fromText(text: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const numbers = lines.map((l) => INDEX_PREFIX.exec(l)?.[1]);
  // Numbered lines lose their numbers only when they count 0… or 1… in order (a label may start with a number).
  const counted =
    numbers.every((n, i) => n !== undefined && (Number(n) === i || Number(n) === i + 1)) &&
    (Number(numbers[0]) === 0 || Number(numbers[0]) === 1);
  if (counted) return lines.map((l) => l.replace(INDEX_PREFIX, ''));
  if (lines.every((l) => WNID_PREFIX.test(l))) return lines.map((l) => l.replace(WNID_PREFIX, ''));
  return lines;
}

/** An array of names, or an object from 0…n−1 to a name (or to [wnid, name], as imagenet_class_index.json); null for other JSON. */
function fromJson(value: unknown): string[] | null {
  if (Array.isArray(value)) return value.length > 0 && value.every((l) => typeof l === 'string') ? value : null;
  if (typeof value !== 'object' || value === null) return null;
  const entries = Object.entries(value);
  if (entries.length === 0) return null;
  const labels: string[] = new Array(entries.length);
  for (const [key, entry] of entries) {
    const index = Number(key);
    const name =
      typeof entry === 'string'
        ? entry
        : Array.isArray(entry) && typeof entry.at(-1) === 'string'
          ? (entry.at(-1) as string)
          : null;
    if (!/^\d+$/.test(key) || index >= entries.length || name === null || labels[index] !== undefined) return null;
    labels[index] = name;
  }
  return labels;
}

/** One file read as labels; null when it holds none. labels.json that is not labels is an error, as it always was. */
export function readLabelFile(file: ImportFile): string[] | null {
  const text = new TextDecoder().decode(file.bytes);
  if (!/\.json$/i.test(file.name)) {
    const labels = fromText(text);
    return labels.length > 0 ? labels : null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (file.name === 'labels.json') throw new ModelFormatError('labels.json is not valid JSON');
    return null;
  }
  const labels = fromJson(value);
  if (!labels && file.name === 'labels.json') throw new ModelFormatError('labels.json must be an array of strings');
  return labels;
}

/**
 * The labels as they fit a model with `outputs` outputs (null: not known before it runs): one a
 * output, or one fewer (the model has a leading background class), or a background-first list
 * one longer than the outputs, which loses its "background"; null when they do not fit.
 */
export function fitted(labels: string[], outputs: number | null): string[] | null {
  if (outputs === null || labels.length === outputs || labels.length === outputs - 1) return labels;
  return labels.length === outputs + 1 && backgroundFirst(labels) ? labels.slice(1) : null;
}

/** Whether a label list starts with the "background" class of TensorFlow's 1001-class exports. */
export function backgroundFirst(labels: readonly string[]): boolean {
  return /^background$/i.test(labels[0] ?? '');
}

/**
 * The labels among `files` for a model with `outputs` outputs. `chosen` names the file the user
 * picked (it must hold labels); `except` are files the format reads itself.
 */
export function findLabels(
  files: ReadonlyMap<string, ImportFile>,
  outputs: number | null,
  chosen?: string,
  except: readonly string[] = [],
): FoundLabels | null {
  if (chosen) {
    const file = files.get(chosen);
    const labels = file ? readLabelFile(file) : null;
    if (!labels) throw new ModelFormatError(`${chosen} holds no labels`);
    return { labels, file: chosen };
  }
  const found: FoundLabels[] = [];
  for (const file of files.values()) {
    if (
      !LABEL_FILE.test(file.name) ||
      NOT_LABELS.has(file.name) ||
      except.includes(file.name) ||
      isNoticeFile(file.name)
    )
      continue;
    const labels = fitted(readLabelFile(file) ?? [], outputs);
    if (labels && labels.length > 0) found.push({ labels, file: file.name });
  }
  if (found.length <= 1) return found[0] ?? null;
  const canonical = CANONICAL.map((name) => found.find((f) => f.file === name)).find((f) => f !== undefined);
  if (canonical) return canonical;
  const names = found.map((f) => f.file).sort();
  throw new LabelsChoiceError(`several files could be the labels: ${JSON.stringify(names)}`);
}

/** The labels given for a stored model afterwards: one file, checked against its classes. */
export function labelsFor(file: ImportFile, outputs: number): string[] {
  const given = readLabelFile(file);
  if (!given) throw new ModelFormatError(`${file.name} holds no labels (a name a line, or a JSON array of names)`);
  const labels = fitted(given, outputs);
  if (labels?.length !== outputs)
    throw new ModelFormatError(`${file.name} has ${given.length} labels, but the model has ${outputs} classes`);
  return labels;
}
