import { transfer } from 'comlink';
import { buffersOf } from '../src/core/transferables';
import { ONNX_FILE, sha256Hex } from '../src/core/model-manifest';
import { ModelIntegrityError, ModelLoadError } from '../src/core/errors';
import { repairing } from '../model/cache-repair';
import { keep } from './kept-files';
import { TRIAL_MODEL } from '../src/core/classifier-types';
import { trialModel } from '../src/core/model-trial';
import { PortRunWatch } from './run-watch';
import { WatchedRunner } from '../model/watched-runner';
import { importable, prepareImport } from '../model/model-import';
import type { PreparedModel } from '../model/prepared-model';
import type { ImportOptions } from '../model/prepared-model';

/**
 * The import worker's API: a user's model files read, checked and converted into Glimpse's
 * layout, in a worker started for one import and ended after it (src/lib/import-worker.ts),
 * so that reading a model never runs in, blocks or fills the classifier worker.
 */
async function prepare(
  files: { name: string; data: Blob }[],
  options: ImportOptions = {},
  watch: MessagePort | null = null,
): Promise<PreparedModel> {
  const wanted = importable(files.map((f) => ({ name: f.name, size: f.data.size, data: f.data })));
  const prepared = prepareImport(
    await Promise.all(wanted.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.data.arrayBuffer()) }))),
    options,
  );
  if (prepared.format === 'onnx') await trialOnnx(prepared, watch);
  return transfer(prepared, buffersOf(prepared.files));
}

/**
 * An ONNX model is first loaded and run here, in this worker made for one import: ONNX Runtime
 * parses the whole file in its wasm, and if a crafted file makes it abort, the runtime that
 * aborted is this worker's, which ends with the import; the classifier worker's ONNX Runtime (and
 * the model it runs) never sees a file that failed here. It runs on the trial's images (src/core/model-trial.ts)
 * under the page's watchdog, with the memory bound the classifier worker has.
 */
async function trialOnnx(prepared: PreparedModel, watch: MessagePort | null): Promise<void> {
  const { createOnnxRunner } = await import('./onnx');
  const { [ONNX_FILE]: onnx, 'metadata.json': _, 'labels.json': __, ...external } = prepared.files;
  // Each trial run is told to the page, whose watchdog ends this worker if one hangs (the import then fails).
  const runner = new WatchedRunner(
    await createOnnxRunner(onnx!, prepared.spec, 'onnx-wasm', external),
    new PortRunWatch(watch, TRIAL_MODEL),
  );
  try {
    await trialModel((pixels) => runner.run(pixels), prepared.spec, prepared.labels.length, prepared.spec.classOffset);
  } finally {
    runner.dispose();
  }
}

/**
 * A distillation student the site serves (public/students): its bytes checked against the digest
 * built into the app, kept where the service worker answers from (so a smaller model can be made
 * offline once one was), and converted like any .tflite.
 */
async function prepareStudent(url: string, sha256: string): Promise<PreparedModel> {
  const target = new URL(url);
  const name = target.pathname.split('/').pop()!;
  const bytes = await repairing(target, async (init) => {
    const response = await fetch(target, init).catch(() => null);
    if (!response?.ok) throw new ModelLoadError(`the small backbone ${name} could not be downloaded`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if ((await sha256Hex(bytes)) !== sha256)
      throw new ModelIntegrityError(`the small backbone ${name} is not the one this app was built with`);
    return bytes;
  });
  await keep(target, bytes, 'application/octet-stream');
  const prepared = prepareImport([{ name, bytes }]);
  return transfer(prepared, buffersOf(prepared.files));
}

export const importApi = { prepare, prepareStudent };
export type ImportApi = typeof importApi;
