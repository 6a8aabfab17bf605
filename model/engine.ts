import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { BackendUnavailableError, BusyError, ModelFormatError } from '../src/core/errors';
import { withTemperature } from '../src/core/calibration';
import { classProbabilities, topK } from '../src/core/predictions';
import { toInputTensor } from './preprocess';
import { blankImage, type Pixels } from '../src/core/model-input';
import { isOnnxBackend, type BackendName, type GpuProbe, type OnnxBackend } from '../src/core/backends';
import { fallbackOrder, trialCandidates } from './backend-choice';
import { median } from '../src/core/stats';
import type { RunWatch } from '../src/core/run-budget';
import type { OnnxRunnerFactory, Runner, RunnerFactory } from './runner';
import { WatchedRunner } from './watched-runner';
import type { ClassifyResult } from '../src/core/classifier-types';
import type { ModelFiles, TfjsModelFiles } from './model-files';

/** What the engine needs of a tfjs graph or layers model. */
interface Runnable {
  predict(input: tf.Tensor): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
  dispose(): unknown;
}

/** A model on the active backend; layers models bring tfjs-layers, loaded only when one is used. */
async function build(files: TfjsModelFiles): Promise<Runnable> {
  const handler = tf.io.fromMemory(files.artifacts);
  if (files.format === 'layers-model') return (await import('@tensorflow/tfjs-layers')).loadLayersModel(handler);
  return loadGraphModel(handler);
}

/** A tfjs model on one tfjs backend. */
class TfjsRunner implements Runner {
  constructor(
    readonly model: Runnable,
    private readonly spec: ModelFiles['spec'],
  ) {}

  async run(pixels: Pixels | null): Promise<Float32Array> {
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

/** Most requests that may wait for the model at once; more are refused with BusyError. */
export const MAX_PENDING = 64;
const WARM_RUNS = 3;

/** Training, features and model trials need tfjs: on LiteRT (or a tfjs model asked for on ONNX Runtime) they run on tfjs's wasm. */
export const tfjsBackend = (backend: BackendName): BackendName =>
  backend === 'litert' || isOnnxBackend(backend) ? 'wasm' : backend;

/**
 * Runs one model on whichever backend is selected: a tfjs backend, or LiteRT.js on the
 * model's .tflite where it has one. tfjs has a single global backend, so every step
 * (inference, building a model on another backend, timing a candidate) goes through one
 * serial queue and re-activates its own backend; each backend keeps its own copy of the
 * weights so switching never moves tensors.
 */
export class Engine {
  private readonly models = new Map<BackendName, Runner>();
  /** Runners of other runtimes being built (downloaded, compiled) ahead of their trial. */
  private readonly building = new Map<BackendName, Promise<Runner>>();
  private selected: BackendName | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private lastRequest = performance.now();
  private answeredOnce: () => void = () => undefined;
  private readonly firstAnswer = new Promise<void>((done) => (this.answeredOnce = done));
  /** The temperature answers are calibrated with: the user's fit for this model, else its metadata's, else 1. */
  temperature: number;

  constructor(
    readonly files: ModelFiles,
    private readonly activate: (backend: BackendName) => Promise<boolean>,
    private readonly liteRt?: RunnerFactory,
    private readonly onnx?: OnnxRunnerFactory,
    private readonly watch?: RunWatch,
  ) {
    this.temperature = files.spec.temperature ?? 1;
  }

  /** Every runner the engine builds runs under the watch, where there is one. */
  private watched(runner: Runner): Runner {
    return this.watch ? new WatchedRunner(runner, this.watch) : runner;
  }

  get backend(): BackendName | null {
    return this.selected;
  }

  /** Backends that need no GPU and may beat tfjs-wasm: LiteRT, when the model comes with a .tflite. */
  cpuCandidates(): BackendName[] {
    return this.liteRt && this.files.tflite && this.files.format !== 'tflite' ? ['litert'] : [];
  }

  /** The backends to try, in order, when `preferred` is asked for: an ONNX model runs only on ONNX Runtime. */
  startOrder(preferred: BackendName): BackendName[] {
    if (this.files.format === 'tflite') return ['litert'];
    if (this.files.format !== 'onnx') return fallbackOrder(isOnnxBackend(preferred) ? 'wasm' : preferred);
    return isOnnxBackend(preferred) && preferred !== 'onnx-wasm' ? [preferred, 'onnx-wasm'] : ['onnx-wasm'];
  }

  /** The GPU backends worth timing for this model, from what the probes found: tfjs's, or ONNX Runtime's WebGPU (and WebNN where the browser has it). */
  gpuCandidates(probes: readonly GpuProbe[]): BackendName[] {
    const hardware = trialCandidates(probes);
    if (this.files.format === 'tflite') return [];
    if (this.files.format !== 'onnx') return hardware;
    return [
      ...(hardware.includes('webgpu') ? (['onnx-webgpu'] as const) : []),
      ...(typeof navigator !== 'undefined' && 'ml' in navigator ? (['onnx-webnn'] as const) : []),
    ];
  }

  /**
   * Resolves once nothing is queued and no image has been asked about for `quietMs`
   * (counted from the engine's start too): background work waits for a user who is
   * still choosing photos, not only for the queue to drain.
   */
  async idle(quietMs = 0): Promise<void> {
    for (;;) {
      if (this.pending > 0) await this.queue;
      else {
        const left = this.lastRequest + quietMs - performance.now();
        if (left <= 0) return;
        await new Promise((done) => setTimeout(done, left));
      }
    }
  }

  /** Resolves once the first image (or features) request has been answered, or `quietMs` passed with none asked for. */
  answered(quietMs: number): Promise<void> {
    return Promise.race([this.firstAnswer, this.idle(quietMs)]);
  }

  /** Runs a user's request (an image, features) in the queue, noting when the user last asked. */
  private request<T>(task: () => Promise<T>): Promise<T> {
    this.lastRequest = performance.now();
    return this.serial(async () => {
      try {
        return await task();
      } finally {
        this.lastRequest = performance.now();
        this.answeredOnce();
      }
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    if (this.pending >= MAX_PENDING) return Promise.reject(new BusyError(`${MAX_PENDING} images are already waiting`));
    this.pending++;
    const run = this.queue.then(task).finally(() => this.pending--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** LiteRT's runtime and the .tflite download and compile outside the queue: classification goes on meanwhile. */
  private async buildLiteRt(): Promise<Runner> {
    if (!this.liteRt || !this.files.tflite) throw new BackendUnavailableError('this model has no .tflite for LiteRT');
    return this.liteRt(this.files, this.files.labels.length + this.files.spec.classOffset);
  }

  /** A runner on ONNX Runtime (for an ONNX model only), built outside the queue as LiteRT's is. */
  private async buildOnnx(backend: OnnxBackend): Promise<Runner> {
    if (this.files.format !== 'onnx')
      throw new BackendUnavailableError(`${backend} runs ONNX models; this one is a tfjs model`);
    if (!this.onnx) throw new BackendUnavailableError('ONNX Runtime is not available here');
    return this.onnx(this.files.onnx, this.files.spec, backend, this.files.external);
  }

  /** Runtimes other than tfjs: their runner is built (downloaded, compiled) outside the queue. */
  private buildOther(backend: BackendName): Promise<Runner> {
    return isOnnxBackend(backend) ? this.buildOnnx(backend) : this.buildLiteRt();
  }

  /** The runner `preload` started building, or a new build. */
  private built(backend: BackendName): Promise<Runner> {
    const started = this.building.get(backend);
    this.building.delete(backend);
    return started ?? this.buildOther(backend);
  }

  /**
   * Starts building a backend whose runtime loads outside the queue (LiteRT: its code, the
   * .tflite and its wasm), so that its trial finds it ready; the photos meanwhile go on.
   */
  preload(backend: BackendName): void {
    if ((backend !== 'litert' && !isOnnxBackend(backend)) || this.models.has(backend) || this.building.has(backend))
      return;
    const build = this.buildOther(backend);
    build.catch(() => undefined);
    this.building.set(backend, build);
  }

  private async use(backend: BackendName): Promise<Runner> {
    let model = this.models.get(backend);
    if (backend === 'litert' || isOnnxBackend(backend)) {
      if (!model) this.models.set(backend, (model = this.watched(await this.built(backend))));
      return model;
    }
    if (this.files.format === 'onnx')
      throw new BackendUnavailableError(`an ONNX model runs on ONNX Runtime, not on tfjs's ${backend}`);
    if (this.files.format === 'tflite')
      throw new BackendUnavailableError(`this model runs on LiteRT only, not on tfjs's ${backend}`);
    if (!(await this.activate(backend))) throw new BackendUnavailableError(`the ${backend} backend could not start`);
    if (!model) {
      model = this.watched(new TfjsRunner(await build(this.files), this.files.spec));
      this.models.set(backend, model);
    }
    return model;
  }

  private async timeZeros(model: Runner): Promise<number> {
    const start = performance.now();
    await model.run(null);
    return performance.now() - start;
  }

  /**
   * Builds the model on `backend` and runs it once, which compiles its kernels or
   * shaders; returns how long that first run took.
   */
  async prepare(backend: BackendName): Promise<number> {
    if ((backend === 'litert' || isOnnxBackend(backend)) && !this.models.has(backend)) {
      const built = await this.built(backend);
      if (this.models.has(backend)) built.dispose();
      else this.models.set(backend, this.watched(built));
    }
    return this.serial(async () => this.timeZeros(await this.use(backend)));
  }

  /** The model's output for one of the import trial's images (null: a blank one), on the backend the trial uses (ONNX Runtime's wasm for an ONNX model, tfjs's for a tfjs one). */
  trialRun(backend: BackendName, pixels: Pixels | null): Promise<Float32Array> {
    const on =
      this.files.format === 'onnx' ? 'onnx-wasm' : this.files.format === 'tflite' ? 'litert' : tfjsBackend(backend);
    return this.runOn(on, pixels);
  }

  /** The model's raw output for an image on `backend` (built if need be), queued like any run: the import's runtime check compares two. */
  runOn(backend: BackendName, pixels: Pixels | null): Promise<Float32Array> {
    return this.serial(async () => (await this.use(backend)).run(pixels));
  }

  /** How many numbers the model answers with, from one run on a blank image: a classifier's class count. */
  async outputLength(backend: BackendName): Promise<number> {
    return (await this.trialRun(backend, null)).length;
  }

  /** The output of a graph node (a model's pooled features, say) for an image, on the selected tfjs backend. */
  features(pixels: Pixels, node: string): Promise<Float32Array> {
    return this.request(async () => {
      if (!this.selected) throw new BackendUnavailableError('no backend is selected');
      const model = await this.use(tfjsBackend(this.selected));
      if (!model.features) throw new ModelFormatError('features come from a graph model');
      return model.features(pixels, node);
    });
  }

  /** Median ms of `runs` warm inferences on an already prepared backend, queued one by one so an image waits for one run at most. */
  async time(backend: BackendName, runs = WARM_RUNS): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await this.serial(async () => this.timeZeros(await this.use(backend))));
    return median(times);
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

  /** Frees a candidate that lost its trial (or was preloaded for one that never came). */
  drop(backend: BackendName): Promise<void> {
    this.building.get(backend)?.then(
      (runner) => runner.dispose(),
      () => undefined,
    );
    this.building.delete(backend);
    return this.serial(async () => {
      if (backend === this.selected) return;
      this.models.get(backend)?.dispose();
      this.models.delete(backend);
    });
  }

  /** `ms` counts from when this request leaves the queue, so waiting behind others is not billed to it. */
  classify(pixels: Pixels, k: number): Promise<ClassifyResult> {
    return this.request(async () => {
      const start = performance.now();
      const backend = this.selected;
      if (!backend) throw new BackendUnavailableError('no backend is selected');
      const probabilities = await this.scores(backend, pixels);
      return {
        predictions: topK(probabilities, this.files.labels, k),
        backend,
        ms: performance.now() - start,
        memory: tfjsMemory(),
      };
    });
  }

  /**
   * Every class's probability for an image, as `classify` computes them: one request in the queue,
   * so the many runs of an explanation take turns with the user's other photos.
   */
  probabilities(pixels: Pixels): Promise<Float32Array> {
    return this.request(async () => {
      const backend = this.selected;
      if (!backend) throw new BackendUnavailableError('no backend is selected');
      return this.scores(backend, pixels);
    });
  }

  /** One run on `backend`, as class probabilities at the model's temperature. */
  private async scores(backend: BackendName, pixels: Pixels): Promise<Float32Array> {
    const output = await (await this.use(backend)).run(pixels);
    const { labels, spec } = this.files;
    return withTemperature(
      classProbabilities(output, labels.length, spec.classOffset, spec.outputIsLogits),
      this.temperature,
    );
  }

  dispose(): void {
    for (const model of this.models.values()) model.dispose();
    this.models.clear();
    for (const backend of [...this.building.keys()]) void this.drop(backend);
    this.selected = null;
  }
}
