import { BackendUnavailableError } from '../src/core/errors';
import type { ModelFiles } from './model-files';
import type { Runner, Runtime } from './runner';

/**
 * LiteRT.js (XNNPACK in WebAssembly) on a model's .tflite: the model's own runtime for a .tflite
 * whose converted copy was not kept, else a CPU candidate timed against tfjs. `load` starts the
 * runtime in this realm and compiles the file, whose output is `outputs` numbers long.
 */
export function liteRtRuntime(load: (files: ModelFiles, outputs: number) => Promise<Runner>): Runtime {
  const refusal = (files: ModelFiles) => (files.tflite ? null : 'this model has no .tflite for LiteRT');
  return {
    backends: ['litert'],
    cpu: 'litert',
    can: { features: false, globalBackend: false, buildsAside: true },
    native: (files) => files.format === 'tflite',
    refusal,
    startOrder: () => ['litert'],
    gpuCandidates: () => [],
    build: async (files) => {
      const why = refusal(files);
      if (why) throw new BackendUnavailableError(why);
      return load(files, files.labels.length + files.spec.classOffset);
    },
  };
}
