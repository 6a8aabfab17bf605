/** Pure decision logic for picking a tfjs backend; the probing and timing live in backends.ts and engine.ts. */

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendPreference = BackendName | 'auto';

export function isBackendName(x: unknown): x is BackendName {
  return typeof x === 'string' && (BACKENDS as readonly string[]).includes(x);
}

/** What probing a GPU backend found, before any model runs on it. */
export type GpuProbe =
  | { backend: 'webgpu' | 'webgl'; kind: 'hardware'; device: string }
  | { backend: 'webgpu' | 'webgl'; kind: 'software'; device: string }
  | { backend: 'webgpu' | 'webgl'; kind: 'unavailable'; device: string };

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

/** The order backends are tried in when the preferred one will not start. */
export function fallbackOrder(preferred: BackendName): BackendName[] {
  const rest: BackendName[] = ['wasm', 'cpu', 'webgl', 'webgpu'];
  return [preferred, ...rest.filter((b) => b !== preferred)];
}

/** GPU backends worth timing: real hardware only, WebGPU first since it is usually faster. */
export function trialCandidates(probes: readonly GpuProbe[]): BackendName[] {
  return probes.filter((p) => p.kind === 'hardware').map((p) => p.backend);
}

export function skippedByProbe(probes: readonly GpuProbe[]): Partial<Record<BackendName, string>> {
  return Object.fromEntries(probes.filter((p) => p.kind !== 'hardware').map((p) => [p.backend, `${p.kind}: ${p.device}`]));
}

/**
 * Switching costs a model rebuild and a warm-up, so a challenger must beat the
 * current backend by a clear margin, not by timing noise.
 */
export const SWITCH_MARGIN = 0.9;

export function fastest(current: BackendName, timings: Partial<Record<BackendName, number>>): BackendName {
  let best = current;
  let bestMs = timings[current] ?? Infinity;
  for (const backend of BACKENDS) {
    const ms = timings[backend];
    if (ms !== undefined && backend !== current && ms < bestMs * SWITCH_MARGIN) {
      best = backend;
      bestMs = ms;
    }
  }
  return best;
}

/** A trial is abandoned once the first (compiling) run shows the candidate cannot win. */
export const TRIAL_FIRST_RUN_CAP_MS = 5_000;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
