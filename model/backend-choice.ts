import type { BackendName, GpuProbe } from '../src/core/backends';

/** Pure decision rules for picking a tfjs backend; BackendSelector applies them, backends.ts probes. */

/** The order backends are tried in when the preferred one will not start. */
export function fallbackOrder(preferred: BackendName): BackendName[] {
  const rest: BackendName[] = ['wasm', 'cpu', 'webgl', 'webgpu'];
  return [preferred, ...rest.filter((b) => b !== preferred)];
}

/** GPU backends worth timing: those whose probe found real hardware, in probe order. */
export function trialCandidates(probes: readonly GpuProbe[]): BackendName[] {
  return probes.filter((p) => p.kind === 'hardware').map((p) => p.backend);
}

export function skippedByProbe(probes: readonly GpuProbe[]): Partial<Record<BackendName, string>> {
  return Object.fromEntries(
    probes.filter((p) => p.kind !== 'hardware').map((p) => [p.backend, `${p.kind}: ${p.device}`]),
  );
}

/**
 * Switching costs a model rebuild and a warm-up, so a challenger must beat the
 * current backend by a clear margin, not by timing noise.
 */
export const SWITCH_MARGIN = 0.9;

export function fastest(current: BackendName, timings: Partial<Record<BackendName, number>>): BackendName {
  let best = current;
  let bestMs = timings[current] ?? Infinity;
  for (const [backend, ms] of Object.entries(timings) as [BackendName, number][]) {
    if (backend !== current && ms < bestMs * SWITCH_MARGIN) {
      best = backend;
      bestMs = ms;
    }
  }
  return best;
}

/**
 * Background trials (probing GPUs, downloading and compiling a candidate, timing it) start
 * only after this long without a request: they take the worker and a core for hundreds of
 * ms, which a user who just chose a photo should not wait for.
 */
export const TRIAL_QUIET_MS = 1_000;

/** Timing runs of a candidate and of the backend it challenges, alternated; untimed runs of the candidate before them. */
export const PAIRED_RUNS = 5;
export const CANDIDATE_WARM_RUNS = 3;

/** A trial is abandoned once the first (compiling) run shows the candidate cannot win. */
export const TRIAL_FIRST_RUN_CAP_MS = 5_000;
