import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { importable } from '../model/model-import';
import type { ImportFile } from '../model/prepared-model';

/**
 * A model the user points a tool at (a folder, with subfolders such as a Hugging Face
 * folder's onnx/; a .zip; a .tflite or .onnx with its labels beside it), as the files the
 * app's import reads: named by their path under the folder's own name, so the folder names
 * the model as a chosen folder does in the app. Media files are left out, as there.
 */
export function readModelSource(source: string): ImportFile[] {
  const path = resolve(source);
  if (!statSync(path).isDirectory()) return [{ name: basename(path), bytes: new Uint8Array(readFileSync(path)) }];
  const found: { name: string; size: number; path: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile())
        found.push({ name: `${basename(path)}/${relative(path, full)}`, size: statSync(full).size, path: full });
    }
  };
  walk(path);
  return importable(found).map((f) => ({ name: f.name, bytes: new Uint8Array(readFileSync(f.path)) }));
}
