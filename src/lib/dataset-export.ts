import { csv } from '../core/csv';

/**
 * The curated training set, to keep: a CSV of each photo's path and class, or a .zip with a
 * folder per class. The .zip stores the photos as they are (JPEGs do not compress) and is
 * built a photo at a time into a Blob, which the browser keeps outside the page's memory,
 * so thousands of photos never sit in the page at once.
 */

export interface CuratedPhoto {
  file: File;
  label: string;
}

/** Where a photo came from: its path in the chosen folder, else its name. */
const pathOf = (file: File) => file.webkitRelativePath || file.name;

export function datasetCsv(photos: readonly CuratedPhoto[]): string {
  return csv([['file', 'class'], ...photos.map((p) => [pathOf(p.file), p.label])]);
}

/** A class folder's name: no path separators or dot-only names, so every entry stays inside its folder. */
function folderName(label: string): string {
  const safe = label.replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_').trim();
  return /^\.*$/.test(safe) ? `_${safe}` : safe;
}

/** `class/name`, numbered when two photos of a class share a name. */
function entryNames(photos: readonly CuratedPhoto[]): string[] {
  const used = new Set<string>();
  return photos.map((p) => {
    const folder = folderName(p.label);
    const base = folderName(p.file.name);
    const dot = base.lastIndexOf('.');
    let name = `${folder}/${base}`;
    for (let n = 2; used.has(name); n++)
      name = dot > 0 ? `${folder}/${base.slice(0, dot)}-${n}${base.slice(dot)}` : `${folder}/${base}-${n}`;
    used.add(name);
    return name;
  });
}

/** Bytes gathered before they move into the Blob. */
const FLUSH = 32 * 1024 * 1024;

export async function datasetZip(
  photos: readonly CuratedPhoto[],
  onProgress: (done: number) => void = () => undefined,
): Promise<Blob> {
  const { Zip, ZipPassThrough } = await import('fflate');
  let blob = new Blob([]);
  let pending: Uint8Array<ArrayBuffer>[] = [];
  let pendingBytes = 0;
  const flush = () => {
    blob = new Blob([blob, ...pending]);
    pending = [];
    pendingBytes = 0;
  };
  let failed: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error) failed = error;
    pending.push(chunk as Uint8Array<ArrayBuffer>);
    pendingBytes += chunk.byteLength;
    if (pendingBytes >= FLUSH) flush();
  });
  const names = entryNames(photos);
  for (const [i, photo] of photos.entries()) {
    const entry = new ZipPassThrough(names[i]!);
    zip.add(entry);
    const reader = photo.file.stream().getReader();
    for (let part = await reader.read(); ; part = await reader.read()) {
      if (part.done) {
        entry.push(new Uint8Array(0), true);
        break;
      }
      entry.push(part.value);
    }
    onProgress(i + 1);
  }
  zip.end();
  if (failed) throw failed;
  flush();
  return blob;
}
