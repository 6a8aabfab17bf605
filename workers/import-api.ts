import { transfer } from 'comlink';
import { buffersOf } from '../src/core/transferables';
import { importable, prepareImport, type PreparedModel } from './model-import';
import type { OnnxImportOptions } from './onnx-import';

/**
 * The import worker's API: a user's model files read, checked and converted into Glimpse's
 * layout, in a worker started for one import and ended after it (src/lib/import-worker.ts),
 * so that reading a model never runs in, blocks or fills the classifier worker.
 */
async function prepare(files: { name: string; data: Blob }[], options: OnnxImportOptions = {}): Promise<PreparedModel> {
  const wanted = importable(files.map((f) => ({ name: f.name, size: f.data.size, data: f.data })));
  const prepared = prepareImport(await Promise.all(wanted.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.data.arrayBuffer()) }))), options);
  return transfer(prepared, buffersOf(prepared.files));
}

export const importApi = { prepare };
export type ImportApi = typeof importApi;
