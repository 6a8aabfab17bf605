import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseCsv } from '../src/core/csv';
import { isImageFileName } from '../src/core/image-files';
import { resolveLabel, WNID_FILE, wnidLabeller } from '../src/core/labels';

export { resolveLabel };

export interface LabelledImage {
  path: string;
  truth: number;
}

/**
 * CSV rows `path,label` (RFC 4180 quoting, so a label with commas is one quoted field; a header
 * `path,label` and lines starting with # are skipped); paths relative to the CSV. An unquoted
 * label with commas still reads: everything after the first comma is the label.
 */
export function readManifest(csvPath: string, labels: readonly string[]): LabelledImage[] {
  const base = dirname(resolve(csvPath));
  let rows: string[][];
  try {
    rows = parseCsv(readFileSync(csvPath, 'utf8'));
  } catch (error) {
    throw new Error(`${csvPath}: ${(error as Error).message}`);
  }
  return rows
    .filter(
      (row, i) =>
        !row[0]!.trim().startsWith('#') &&
        !(i === 0 && row.length === 2 && /^path$/i.test(row[0]!.trim()) && /^label$/i.test(row[1]!.trim())),
    )
    .map((row, i) => {
      const [path, ...label] = row.map((field) => field.trim());
      if (!path || label.length === 0 || label.join('') === '')
        throw new Error(`${csvPath}: row ${i + 1}: expected "path,label"`);
      return { path: isAbsolute(path) ? path : join(base, path), truth: resolveLabel(label.join(', '), labels) };
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
  if (!images.some((f) => WNID_FILE.test(f)))
    throw new Error(`${dir} has neither class folders nor <wnid>_<name> images`);
  const byWnid = wnidLabeller(images, labels);
  return images.map((f) => {
    const truth = byWnid(f);
    if (truth === null) throw new Error(`${f}: not named <wnid>_<name>`);
    return { path: join(dir, f), truth };
  });
}
