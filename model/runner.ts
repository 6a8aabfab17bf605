import type { BackendName, GpuProbe } from '../src/core/backends';
import type { Pixels } from '../src/core/model-input';
import type { ModelFiles } from './model-files';

/** A model ready to run on one backend: the model's output for an image (null: a blank one). */
export interface Runner {
  run(pixels: Pixels | null): Promise<Float32Array>;
  /** The output of a graph node (a model's pooled features, say), where the runtime can give it. */
  features?(pixels: Pixels, node: string): Promise<Float32Array>;
  dispose(): void;
}

/** What a runtime's runners can do: the engine asks these, never a runtime's name. */
export interface RuntimeAbilities {
  /** Outputs of a graph's inner nodes (a model's pooled features), which training and few-shot read. */
  features: boolean;
  /**
   * One global backend that every model shares (tfjs): it is made current before each run, and an
   * import's trial runs on the one already started rather than starting another.
   */
  globalBackend: boolean;
  /** Its runners are built (the runtime downloaded, the model compiled) outside the engine's queue, so photos go on meanwhile. */
  buildsAside: boolean;
}

/**
 * One runtime (tfjs, LiteRT.js, ONNX Runtime) as the engine sees it: the backends it owns, which
 * models it runs, what its runners can do, and how one is built. What is tied to a realm (loading
 * a wasm build in the worker, onnxruntime-node in the tools) comes in as the `build` it is given.
 */
export interface Runtime {
  readonly backends: readonly BackendName[];
  /** Its backend that needs no GPU: where the model runs when another runtime's backend is current. */
  readonly cpu: BackendName;
  readonly can: RuntimeAbilities;
  /** The model's own format is this runtime's: it starts here, and other runtimes that can run it are candidates timed against it. */
  native(files: ModelFiles): boolean;
  /** Why it cannot run `files` on `backend`; null where it can. */
  refusal(files: ModelFiles, backend: BackendName): string | null;
  /** Its backends in the order tried when `preferred` is asked for (one it does not own: its own default order). */
  startOrder(preferred: BackendName): BackendName[];
  /** Its GPU backends worth timing, from what the probes found. */
  gpuCandidates(probes: readonly GpuProbe[]): BackendName[];
  build(files: ModelFiles, backend: BackendName): Promise<Runner>;
  /** Its tensors' count and bytes now, where it keeps them outside a wasm heap the run watch sees (tfjs). */
  memory?(): { tensors: number; bytes: number };
}
