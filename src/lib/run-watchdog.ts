import { ModelFormatError, ModelMemoryError, ModelTimeoutError } from '../core/errors';
import { megabytes, type RunMessage } from '../core/run-budget';

/** Why the watchdog gave up a worker, and whose run it was. */
export interface Trip {
  kind: 'timeout' | 'memory';
  /** What happened, for the error its owner raises ("one image ran for over 10 s, …"). */
  detail: string;
  model: string;
}

/** The error a stopped model's pending calls end with: it ran, and was stopped. */
export function stoppedError({ kind, detail }: Trip): Error {
  return kind === 'timeout'
    ? new ModelTimeoutError(`${detail}; it was stopped`)
    : new ModelMemoryError(`${detail}; it was stopped`);
}

/** The error an import ends with when its trial trips the watchdog: the model is not stored. */
export function trialError({ detail }: Trip): Error {
  return new ModelFormatError(`the model failed its trial on test images: ${detail}; it was not imported`);
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * The page's side of a worker's run watch (workers/run-watch.ts): every model run starts a timer
 * of the run's budget, and its end stops it. A run that outlasts its budget, or leaves the
 * worker's memory over the bound, trips the watchdog once: the worker cannot be stopped from
 * inside (a runtime in WebAssembly holds its thread), so its owner ends it.
 */
export class RunWatchdog {
  private readonly runs = new Map<number, { since: number; model: string; timer: ReturnType<typeof setTimeout> }>();
  private tripped = false;

  constructor(
    private readonly port: MessagePort,
    private readonly trip: (trip: Trip) => void,
  ) {
    port.onmessage = (event: MessageEvent<RunMessage>) => this.heard(event.data);
  }

  private heard(message: RunMessage): void {
    if (this.tripped) return;
    if (message.type === 'run') {
      const timer = setTimeout(() => {
        this.fire({
          kind: 'timeout',
          detail: `one image ran for over ${seconds(message.budgetMs)}, far longer than the model's other runs`,
          model: message.model,
        });
      }, message.budgetMs);
      this.runs.set(message.id, { since: performance.now(), model: message.model, timer });
    } else if (message.type === 'idle') {
      clearTimeout(this.runs.get(message.id)?.timer);
      this.runs.delete(message.id);
    } else {
      this.fire({
        kind: 'memory',
        detail: `after one image its runtime held ${megabytes(message.bytes)}, over the ${megabytes(message.boundBytes)} this device allows`,
        model: message.model,
      });
    }
  }

  private fire(trip: Trip): void {
    this.dispose();
    this.trip(trip);
  }

  /** How long the oldest run still going has taken (0 when none is), leaving out runs of the model `except`. */
  busyMs(except?: string): number {
    const oldest = Math.min(...[...this.runs.values()].filter((run) => run.model !== except).map((run) => run.since));
    return Number.isFinite(oldest) ? performance.now() - oldest : 0;
  }

  /** Stops listening: the worker is being ended (or was). */
  dispose(): void {
    this.tripped = true;
    for (const { timer } of this.runs.values()) clearTimeout(timer);
    this.runs.clear();
    this.port.onmessage = null;
    this.port.close();
  }
}
