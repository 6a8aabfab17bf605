import type { BackendChoice, BackendName, BackendPreference, GpuProbe } from './backends';
import type { Prediction } from './predictions';

/** What the worker's classifier API takes and returns, shared with the page and the embed bridge. */

export interface ModelInfo {
  /** `crop` is the central fraction of the shorter side the model looks at (1: the whole image, squashed). */
  model: { name: string; version: string; classes: number; inputSize: readonly [number, number]; crop: number };
  backend: BackendName;
  choice: BackendChoice;
}

export type LoadProgress =
  | { phase: 'download'; loaded: number; total: number }
  | { phase: 'warmup'; backend: BackendName }
  /** Sent when loading finishes and again whenever a background trial switches backend. */
  | { phase: 'ready'; info: ModelInfo };

export interface LoadOptions {
  backend?: BackendPreference;
}

/** What the worker knows of its runtime, for the diagnostics panel: nothing about any image. */
export interface WorkerDiagnostics {
  tfjsVersion: string;
  probes: GpuProbe[];
  wasm: { simd: boolean; threads: boolean };
  memory: { tensors: number; bytes: number };
}

export interface ClassifyResult {
  predictions: Prediction[];
  backend: BackendName;
  /** Worker time for this image: pixels, preprocessing, inference and top-k. */
  ms: number;
  /** The worker's tfjs memory right after this image: a leak shows as growth. */
  memory: { tensors: number; bytes: number };
}
