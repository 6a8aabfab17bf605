import { BackendUnavailableError, BusyError, ModelFormatError } from '../src/core/errors';
import { withTemperature } from '../src/core/calibration';
import { classProbabilities, topK } from '../src/core/predictions';
import type { Pixels } from '../src/core/model-input';
import type { BackendName, GpuProbe } from '../src/core/backends';
import { median } from '../src/core/stats';
import type { RunWatch } from '../src/core/run-budget';
import type { Runner, Runtime } from './runner';
import { WatchedRunner } from './watched-runner';
import type { ClassifyResult } from '../src/core/classifier-types';
import type { ModelFiles } from './model-files';

/** Most requests that may wait for the model at once; more are refused with BusyError. */
export const MAX_PENDING = 64;
const WARM_RUNS = 3;

/**
 * Runs one model on whichever backend is selected, of the runtimes it is given (tfjs, LiteRT.js,
 * ONNX Runtime; model/runner.ts says what it asks of each). tfjs has a single global backend, so
 * every step (inference, building a model on another backend, timing a candidate) goes through one
 * serial queue and a tfjs runner re-activates its own backend; each backend keeps its own copy of
 * the weights so switching never moves tensors.
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
    private readonly runtimes: readonly Runtime[],
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

  /** The runtime that owns `backend`, if this engine has it. */
  private owner(backend: BackendName): Runtime | undefined {
    return this.runtimes.find((r) => r.backends.includes(backend));
  }

  /** The runtime that owns `backend`, where it can run this model there. */
  private runtimeFor(backend: BackendName): Runtime {
    const runtime = this.owner(backend);
    if (!runtime) throw new BackendUnavailableError(`${backend} is not available here`);
    const refusal = runtime.refusal(this.files, backend);
    if (refusal) throw new BackendUnavailableError(refusal);
    return runtime;
  }

  /** The runtime of the model's own format. */
  private native(): Runtime {
    const runtime = this.runtimes.find((r) => r.native(this.files));
    if (!runtime) throw new BackendUnavailableError(`nothing here runs a ${this.files.format} model`);
    return runtime;
  }

  /** Backends that need no GPU and may beat the model's own runtime: LiteRT, when a tfjs model comes with a .tflite. */
  cpuCandidates(): BackendName[] {
    return this.runtimes.filter((r) => !r.native(this.files) && !r.refusal(this.files, r.cpu)).map((r) => r.cpu);
  }

  /** The backends to try, in order, when `preferred` is asked for: the model's own runtime's, after `preferred` where another runtime runs the model there. */
  startOrder(preferred: BackendName): BackendName[] {
    const native = this.native();
    const order = native.startOrder(preferred);
    const other = this.runtimes.find(
      (r) => r !== native && r.backends.includes(preferred) && !r.refusal(this.files, preferred),
    );
    return other ? [preferred, ...order] : order;
  }

  /** The GPU backends worth timing for this model, from what the probes found: tfjs's, or ONNX Runtime's WebGPU (and WebNN where the browser has it). */
  gpuCandidates(probes: readonly GpuProbe[]): BackendName[] {
    return this.native().gpuCandidates(probes);
  }

  /** Where this model's features are read when `backend` runs it: there, if its runtime gives features, else on the CPU backend of one that does (tfjs's wasm for a model on LiteRT). */
  featuresBackend(backend: BackendName): BackendName {
    if (this.owner(backend)?.can.features) return backend;
    return this.runtimes.find((r) => r.can.features && !r.refusal(this.files, r.cpu))?.cpu ?? backend;
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

  /** A runner for `backend`; a rejection, never a throw, where none can be built. */
  private async construct(backend: BackendName): Promise<Runner> {
    return this.runtimeFor(backend).build(this.files, backend);
  }

  /** The runner `preload` started building, or a new build. */
  private built(backend: BackendName): Promise<Runner> {
    const started = this.building.get(backend);
    this.building.delete(backend);
    return started ?? this.construct(backend);
  }

  /**
   * Starts building a backend whose runtime builds outside the queue (LiteRT: its code, the
   * .tflite and its wasm), so that its trial finds it ready; the photos meanwhile go on.
   */
  preload(backend: BackendName): void {
    const runtime = this.owner(backend);
    if (!runtime?.can.buildsAside || this.models.has(backend) || this.building.has(backend)) return;
    const build = this.construct(backend);
    build.catch(() => undefined);
    this.building.set(backend, build);
  }

  private async use(backend: BackendName): Promise<Runner> {
    const runtime = this.runtimeFor(backend);
    let model = this.models.get(backend);
    if (!model) {
      model = this.watched(
        runtime.can.buildsAside ? await this.built(backend) : await runtime.build(this.files, backend),
      );
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
    if (this.runtimeFor(backend).can.buildsAside && !this.models.has(backend)) {
      const built = await this.built(backend);
      if (this.models.has(backend)) built.dispose();
      else this.models.set(backend, this.watched(built));
    }
    return this.serial(async () => this.timeZeros(await this.use(backend)));
  }

  /**
   * The model's output for one of the import trial's images (null: a blank one), on its own
   * runtime: on `backend`, the one running now, where that runtime shares one started backend
   * (tfjs), else on its CPU backend (ONNX Runtime's wasm, LiteRT).
   */
  trialRun(backend: BackendName, pixels: Pixels | null): Promise<Float32Array> {
    const native = this.native();
    return this.runOn(native.can.globalBackend && native.backends.includes(backend) ? backend : native.cpu, pixels);
  }

  /** The model's raw output for an image on `backend` (built if need be), queued like any run: the import's runtime check compares two. */
  runOn(backend: BackendName, pixels: Pixels | null): Promise<Float32Array> {
    return this.serial(async () => (await this.use(backend)).run(pixels));
  }

  /** How many numbers the model answers with, from one run on a blank image: a classifier's class count. */
  async outputLength(backend: BackendName): Promise<number> {
    return (await this.trialRun(backend, null)).length;
  }

  /** The output of a graph node (a model's pooled features, say) for an image, on the selected backend or beside it (featuresBackend). */
  features(pixels: Pixels, node: string): Promise<Float32Array> {
    return this.request(async () => {
      if (!this.selected) throw new BackendUnavailableError('no backend is selected');
      const model = await this.use(this.featuresBackend(this.selected));
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
        memory: this.memory(),
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

  /** The tensors the runtimes report holding (tfjs's), for the diagnostics. */
  private memory(): { tensors: number; bytes: number } {
    const reports = this.runtimes.flatMap((r) => (r.memory ? [r.memory()] : []));
    return {
      tensors: reports.reduce((sum, m) => sum + m.tensors, 0),
      bytes: reports.reduce((sum, m) => sum + m.bytes, 0),
    };
  }

  dispose(): void {
    for (const model of this.models.values()) model.dispose();
    this.models.clear();
    for (const backend of [...this.building.keys()]) void this.drop(backend);
    this.selected = null;
  }
}
