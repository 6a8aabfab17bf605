import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { BackendUnavailableError, ModelFormatError } from '../src/core/errors';
import { blankImage, type Pixels } from '../src/core/model-input';
import type { BackendName } from '../src/core/backends';
import { toInputTensor } from './preprocess';
import { fallbackOrder, trialCandidates } from './backend-choice';
import type { ModelFiles, TfjsModelFiles } from './model-files';
import type { Runner, Runtime } from './runner';

/** What a runner needs of a tfjs graph or layers model. */
interface Runnable {
  predict(input: tf.Tensor): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
  dispose(): unknown;
}

/** A model on the active backend; layers models bring tfjs-layers, loaded only when one is used. */
async function load(files: TfjsModelFiles): Promise<Runnable> {
  const handler = tf.io.fromMemory(files.artifacts);
  if (files.format === 'layers-model') return (await import('@tensorflow/tfjs-layers')).loadLayersModel(handler);
  return loadGraphModel(handler);
}

/** A tfjs model on one tfjs backend, which `enter` makes current before each run (tfjs has one global backend). */
class TfjsRunner implements Runner {
  constructor(
    private readonly model: Runnable,
    private readonly spec: ModelFiles['spec'],
    private readonly enter: () => Promise<void>,
  ) {}

  async run(pixels: Pixels | null): Promise<Float32Array> {
    await this.enter();
    // A blank image takes a photo's path (the plain-JS input, then the model): warm-up and timing runs cost what a photo does, and the first photo pays for no first use.
    const input = toInputTensor(pixels ?? blankImage(this.spec), this.spec);
    try {
      const result = this.model.predict(input);
      const outputs = result instanceof tf.Tensor ? [result] : Array.isArray(result) ? result : Object.values(result);
      try {
        return (await outputs[0]!.data()) as Float32Array;
      } finally {
        tf.dispose(outputs);
      }
    } finally {
      input.dispose();
    }
  }

  /** The output of a graph node (a model's pooled features, say). */
  async features(pixels: Pixels, node: string): Promise<Float32Array> {
    if (!('execute' in this.model)) throw new ModelFormatError('features come from a graph model');
    await this.enter();
    const input = toInputTensor(pixels, this.spec);
    try {
      const output = (this.model as { execute(input: tf.Tensor, node: string): tf.Tensor }).execute(input, node);
      try {
        return (await output.data()) as Float32Array;
      } finally {
        output.dispose();
      }
    } finally {
      input.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

const TFJS_BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/**
 * tfjs on its backends (WebGPU, WebGL, WebAssembly, plain JS), for TF.js graph and layers models;
 * `activate` makes a backend tfjs's current one in this realm (false: it could not start).
 */
export function tfjsRuntime(activate: (backend: BackendName) => Promise<boolean>): Runtime {
  return {
    backends: TFJS_BACKENDS,
    cpu: 'wasm',
    can: { features: true, globalBackend: true, buildsAside: false },
    native: (files) => files.format === 'graph-model' || files.format === 'layers-model',
    refusal: (files, backend) =>
      files.format === 'onnx'
        ? `an ONNX model runs on ONNX Runtime, not on tfjs's ${backend}`
        : files.format === 'tflite'
          ? `this model runs on LiteRT only, not on tfjs's ${backend}`
          : null,
    startOrder: (preferred) => fallbackOrder(TFJS_BACKENDS.includes(preferred) ? preferred : 'wasm'),
    gpuCandidates: trialCandidates,
    async build(files, backend) {
      if (files.format !== 'graph-model' && files.format !== 'layers-model')
        throw new BackendUnavailableError(`this model does not run on tfjs's ${backend}`);
      const enter = async () => {
        if (!(await activate(backend))) throw new BackendUnavailableError(`the ${backend} backend could not start`);
      };
      await enter();
      return new TfjsRunner(await load(files), files.spec, enter);
    },
    memory: tfjsMemory,
  };
}

/** The bytes of tfjs's tensors that live outside a WebAssembly heap (CPU, WebGL and WebGPU backends), which the run watch adds to the heaps it sees. */
export function tfjsBytesOutsideWasm(): number {
  // Read from the engine's own counters: tf.memory() would start a backend where none has started.
  const engine = tf.engine();
  return engine.backendName && engine.backendName !== 'wasm' ? engine.state.numBytes : 0;
}

/** tfjs's tensor count and bytes; none while only LiteRT has run (tfjs has no backend then). */
export function tfjsMemory(): { tensors: number; bytes: number } {
  try {
    const { numTensors, numBytes } = tf.memory();
    return { tensors: numTensors, bytes: numBytes };
  } catch {
    return { tensors: 0, bytes: 0 };
  }
}
