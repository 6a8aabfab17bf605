import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { BackendUnavailableError, BusyError, ModelFormatError } from '../src/core/errors';
import { classProbabilities, topK } from '../src/core/predictions';
import { toInputTensor, type Pixels } from '../src/core/preprocess';
import type { BackendName } from '../src/core/backends';
import { median } from '../src/core/stats';
import type { ClassifyResult } from '../src/core/classifier-types';
import type { ModelFiles } from './model-files';

/** What the engine needs of a tfjs graph or layers model. */
interface Runnable {
  predict(input: tf.Tensor): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
  dispose(): unknown;
}

/** A model on the active backend; layers models bring tfjs-layers, loaded only when one is used. */
async function build(files: ModelFiles): Promise<Runnable> {
  const handler = tf.io.fromMemory(files.artifacts);
  if (files.format === 'layers-model') return (await import('@tensorflow/tfjs-layers')).loadLayersModel(handler);
  return loadGraphModel(handler);
}

/** Most requests that may wait for the model at once; more are refused with BusyError. */
export const MAX_PENDING = 64;
const WARM_RUNS = 3;

/**
 * Runs one model on whichever tfjs backend is selected. tfjs has a single global
 * backend, so every step (inference, building a model on another backend, timing a
 * candidate) goes through one serial queue and re-activates its own backend; each
 * backend keeps its own copy of the weights so switching never moves tensors.
 */
export class Engine {
  private readonly models = new Map<BackendName, Runnable>();
  private selected: BackendName | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(
    readonly files: ModelFiles,
    private readonly activate: (backend: BackendName) => Promise<boolean>,
  ) {}

  get backend(): BackendName | null {
    return this.selected;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    if (this.pending >= MAX_PENDING) return Promise.reject(new BusyError(`${MAX_PENDING} images are already waiting`));
    this.pending++;
    const run = this.queue.then(task).finally(() => this.pending--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async use(backend: BackendName): Promise<Runnable> {
    if (!(await this.activate(backend))) throw new BackendUnavailableError(`the ${backend} backend could not start`);
    let model = this.models.get(backend);
    if (!model) {
      model = await build(this.files);
      this.models.set(backend, model);
    }
    return model;
  }

  private async run(model: Runnable, input: tf.Tensor): Promise<Float32Array> {
    const result = model.predict(input);
    const outputs = result instanceof tf.Tensor ? [result] : Array.isArray(result) ? result : Object.values(result);
    try {
      return (await outputs[0]!.data()) as Float32Array;
    } finally {
      tf.dispose(outputs);
    }
  }

  private async timeZeros(model: Runnable): Promise<number> {
    const [h, w] = this.files.spec.inputSize;
    const input = tf.zeros([1, h, w, 3]);
    const start = performance.now();
    try {
      await this.run(model, input);
    } finally {
      input.dispose();
    }
    return performance.now() - start;
  }

  /**
   * Builds the model on `backend` and runs it once, which compiles its kernels or
   * shaders; returns how long that first run took.
   */
  prepare(backend: BackendName): Promise<number> {
    return this.serial(async () => this.timeZeros(await this.use(backend)));
  }

  /** How many numbers the model answers with, from one run on a blank image: a classifier's class count. */
  outputLength(backend: BackendName): Promise<number> {
    return this.serial(async () => {
      const model = await this.use(backend);
      const [h, w] = this.files.spec.inputSize;
      const input = tf.zeros([1, h, w, 3]);
      try {
        return (await this.run(model, input)).length;
      } finally {
        input.dispose();
      }
    });
  }

  /** The output of a graph node (a model's pooled features, say) for an image, on the selected backend. */
  features(pixels: Pixels, node: string): Promise<Float32Array> {
    return this.serial(async () => {
      const backend = this.selected;
      if (!backend) throw new BackendUnavailableError('no backend is selected');
      const model = await this.use(backend);
      if (!('execute' in model)) throw new ModelFormatError('features come from a graph model');
      const input = toInputTensor(pixels, this.files.spec);
      try {
        const output = (model as { execute(input: tf.Tensor, node: string): tf.Tensor }).execute(input, node);
        try {
          return (await output.data()) as Float32Array;
        } finally {
          output.dispose();
        }
      } finally {
        input.dispose();
      }
    });
  }

  /** Median ms of `runs` warm inferences on an already prepared backend. */
  time(backend: BackendName, runs = WARM_RUNS): Promise<number> {
    return this.serial(async () => {
      const model = await this.use(backend);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await this.timeZeros(model));
      return median(times);
    });
  }

  /** Makes `backend` (already prepared) the one that classifies, and frees the others' weights. */
  select(backend: BackendName): Promise<void> {
    return this.serial(async () => {
      await this.use(backend);
      this.selected = backend;
      for (const [other, model] of this.models) {
        if (other !== backend) {
          model.dispose();
          this.models.delete(other);
        }
      }
    });
  }

  /** Frees a candidate that lost its trial. */
  drop(backend: BackendName): Promise<void> {
    return this.serial(async () => {
      if (backend === this.selected) return;
      this.models.get(backend)?.dispose();
      this.models.delete(backend);
    });
  }

  /** `ms` counts from when this request leaves the queue, so waiting behind others is not billed to it. */
  classify(pixels: Pixels, k: number): Promise<ClassifyResult> {
    return this.serial(async () => {
      const start = performance.now();
      const backend = this.selected;
      if (!backend) throw new BackendUnavailableError('no backend is selected');
      const model = await this.use(backend);
      const input = toInputTensor(pixels, this.files.spec);
      let output: Float32Array;
      try {
        output = await this.run(model, input);
      } finally {
        input.dispose();
      }
      const { labels, spec } = this.files;
      const probabilities = classProbabilities(output, labels.length, spec.classOffset, spec.outputIsLogits);
      const { numTensors, numBytes } = tf.memory();
      return { predictions: topK(probabilities, labels, k), backend, ms: performance.now() - start, memory: { tensors: numTensors, bytes: numBytes } };
    });
  }

  dispose(): void {
    for (const model of this.models.values()) model.dispose();
    this.models.clear();
    this.selected = null;
  }
}
