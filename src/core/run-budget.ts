/**
 * How long one model run may take, and how much memory a model may hold, before the worker
 * running it is given up: a model that passed its import trial can still loop or allocate on
 * the images that wake it (issue 33). The page's watchdog (src/lib/run-watchdog.ts), the import
 * worker's trial and the Node tools' guard (tools/run-guard.ts) all apply these numbers.
 */

/** No run, however slow the device, may take longer: a first run compiling kernels or shaders included. */
export const RUN_CEILING_MS = 120_000;
/** The least a run is allowed once the model has run: far above any real image's run on any engine. */
export const RUN_FLOOR_MS = 10_000;
/** A run may take this many times the slowest of the model's recent runs on the same engine. */
export const RUN_BUDGET_FACTOR = 50;
/** How many recent runs the budget is taken from. */
const RECENT_RUNS = 16;

/** The budget of a model's next run on one engine, from its recent runs there (none yet: the ceiling). */
export function runBudgetMs(recentMs: readonly number[]): number {
  const known = recentMs.filter((ms) => Number.isFinite(ms) && ms >= 0);
  if (known.length === 0) return RUN_CEILING_MS;
  return Math.min(RUN_CEILING_MS, Math.max(RUN_FLOOR_MS, RUN_BUDGET_FACTOR * Math.max(...known)));
}

/** The recent run times of one engine, newest last. */
export class RunTimes {
  private readonly recent: number[] = [];

  record(ms: number): void {
    this.recent.push(ms);
    if (this.recent.length > RECENT_RUNS) this.recent.shift();
  }

  budgetMs(): number {
    return runBudgetMs(this.recent);
  }
}

const GIB = 1024 ** 3;

/**
 * The memory a model's runtime may hold in a browser worker (its WebAssembly heaps and tfjs's
 * tensors): a quarter of the device's memory where the browser says (navigator.deviceMemory,
 * which Chromium rounds and caps at 8 GB), between 1 and 2 GiB. The built-in model needs about
 * 60 MB; a phone with 4 GB is left 1 GiB.
 */
export function browserMemoryBound(deviceMemoryGb: number | undefined): number {
  const quarter =
    typeof deviceMemoryGb === 'number' && Number.isFinite(deviceMemoryGb) && deviceMemoryGb > 0
      ? (deviceMemoryGb * GIB) / 4
      : 2 * GIB;
  return Math.min(2 * GIB, Math.max(GIB, quarter));
}

/** The memory a Node tool's process may reach (resident set): half the machine's, at most 8 GiB; GLIMPSE_MAX_MEMORY_MB overrides it. */
export function nodeMemoryBound(totalBytes: number, overrideMb?: string): number {
  if (overrideMb !== undefined && /^\d{2,7}$/.test(overrideMb)) return Number(overrideMb) * 1024 ** 2;
  return Math.min(8 * GIB, totalBytes / 2);
}

export const megabytes = (bytes: number) => `${Math.round(bytes / 1024 ** 2)} MB`;

/**
 * Told of every model run, so that a watchdog outside the thread running it can end a run that
 * hangs: a runtime in WebAssembly or native code blocks its thread, and nothing in that thread
 * can stop it (workers/run-watch.ts in the browser, tools/run-guard.ts in Node).
 */
export interface RunWatch {
  /** A run starts, which may take `budgetMs`. */
  started(budgetMs: number): void;
  /** It ended, or failed; throws ModelMemoryError when the runtime now holds more memory than allowed. */
  ended(): void;
}

/** What a worker tells the page's watchdog about its runs, over a port of their own. */
export type RunMessage =
  | { type: 'run'; id: number; budgetMs: number; model: string }
  | { type: 'idle'; id: number }
  | { type: 'memory'; id: number; bytes: number; boundBytes: number; model: string };
