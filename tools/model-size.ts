import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { modelFolder } from './node-model';

export interface ModelBytes {
  raw: number;
  /** As a static host compresses them on the fly (gzip, level 6) and ahead of time (brotli, quality 11). */
  gzip: number;
  brotli: number;
}

/**
 * What a model costs to download: a Glimpse folder's model.json and weight shards (or its .onnx
 * and external data, or a LiteRT-only model's .tflite), else the file given; labels, metadata and
 * licences aside, as every variant of a model has them alike.
 */
export function modelBytes(model: string): ModelBytes {
  const folder = modelFolder(model);
  const paths = folder ? downloadFiles(folder).map((f) => join(folder, f)) : [model];
  const files = paths.map((p) => readFileSync(p));
  const sum = (size: (b: Buffer) => number) => files.reduce((n, b) => n + size(b), 0);
  return {
    raw: sum((b) => b.byteLength),
    gzip: sum((b) => gzipSync(b).byteLength),
    brotli: sum((b) => brotliCompressSync(b).byteLength),
  };
}

function downloadFiles(folder: string): string[] {
  if (existsSync(join(folder, 'model.json'))) {
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[];
    };
    return ['model.json', ...json.weightsManifest.flatMap((g) => g.paths)];
  }
  return readdirSync(folder).filter((f) => /\.(onnx|onnx_data|tflite)$/.test(f) && statSync(join(folder, f)).isFile());
}
