/**
 * The backend vocabulary the page, the worker and the embed bridge share. Page code
 * imports this, never workers/ (a value import from there would pull tfjs into the page).
 */

/**
 * tfjs's backends, LiteRT.js (XNNPACK in WebAssembly) for models that come with a .tflite,
 * and ONNX Runtime Web's execution providers, which only ONNX models run on.
 */
export const BACKENDS = ['webgpu', 'webgl', 'litert', 'wasm', 'cpu', 'onnx-webgpu', 'onnx-webnn', 'onnx-wasm'] as const;
export type BackendName = (typeof BACKENDS)[number];
export const ONNX_BACKENDS = ['onnx-webgpu', 'onnx-webnn', 'onnx-wasm'] as const satisfies readonly BackendName[];
export type OnnxBackend = (typeof ONNX_BACKENDS)[number];

export function isOnnxBackend(x: BackendName): x is OnnxBackend {
  return (ONNX_BACKENDS as readonly string[]).includes(x);
}
export type BackendPreference = BackendName | 'auto';

export function isBackendName(x: unknown): x is BackendName {
  return typeof x === 'string' && (BACKENDS as readonly string[]).includes(x);
}

/** What probing a GPU backend found, before any model runs on it. */
export interface GpuProbe {
  backend: 'webgpu' | 'webgl';
  kind: 'hardware' | 'software' | 'unavailable';
  device: string;
}

export type ChoiceReason =
  /** The user or the URL asked for this backend. */
  | 'forced'
  /** A previous visit on this device measured it fastest. */
  | 'remembered'
  /** Measured against the other candidates and won. */
  | 'measured'
  /** Answering on the fast default while the GPUs are probed and measured. */
  | 'measuring'
  /** Every GPU here is unavailable or software-emulated, so measuring it is pointless. */
  | 'no-gpu'
  /** The preferred backend failed to start; this is the next that worked. */
  | 'fallback';

export interface BackendChoice {
  backend: BackendName;
  reason: ChoiceReason;
  /** Warm median ms per image, for each backend measured. */
  timings: Partial<Record<BackendName, number>>;
  /** GPU backends not tried, with what the probe found. */
  skipped: Partial<Record<BackendName, string>>;
}
