import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isImageFileName } from '../src/core/image-files';
import { resolveLabel, WNID_FILE, wnidLabeller } from '../src/core/labels';

export { resolveLabel };

export interface LabelledImage {
  path: string;
  truth: number;
}


/** CSV lines `path,label` (a header line `path,label` is skipped); paths relative to the CSV. */
export function readManifest(csvPath: string, labels: readonly string[]): LabelledImage[] {
  const base = dirname(resolve(csvPath));
  return readFileSync(csvPath, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line, i) => line && !line.startsWith('#') && !(i === 0 && /^path\s*,\s*label$/i.test(line)))
    .map((line, i) => {
      const comma = line.lastIndexOf(',');
      if (comma < 1) throw new Error(`${csvPath}:${i + 1}: expected "path,label"`);
      const path = line.slice(0, comma).trim().replace(/^"(.*)"$/, '$1');
      return { path: isAbsolute(path) ? path : join(base, path), truth: resolveLabel(line.slice(comma + 1).replace(/^"(.*)"$/, '$1'), labels) };
    });
}

/**
 * A folder per class (the folder name is the label text or index), or a flat folder of
 * ImageNet samples named `<wnid>_<name>.JPEG`. For those, the sorted wnids are the
 * class order when there is one per class (ImageNet-1k's convention); otherwise the
 * name part is matched against the labels.
 */
export function readImageFolder(dir: string, labels: readonly string[]): LabelledImage[] {
  const entries = readdirSync(dir).sort();
  const folders = entries.filter((e) => statSync(join(dir, e)).isDirectory());
  if (folders.length > 0) {
    return folders.flatMap((folder) => {
      const truth = resolveLabel(folder, labels);
      return readdirSync(join(dir, folder))
        .filter((f) => isImageFileName(f))
        .sort()
        .map((f) => ({ path: join(dir, folder, f), truth }));
    });
  }
  const images = entries.filter((f) => isImageFileName(f));
  if (!images.some((f) => WNID_FILE.test(f))) throw new Error(`${dir} has neither class folders nor <wnid>_<name> images`);
  const byWnid = wnidLabeller(images, labels);
  return images.map((f) => {
    const truth = byWnid(f);
    if (truth === null) throw new Error(`${f}: not named <wnid>_<name>`);
    return { path: join(dir, f), truth };
  });
}
