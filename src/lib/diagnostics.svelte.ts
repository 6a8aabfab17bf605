/// <reference path="../core/build-constants.d.ts" />
import { BUILTIN_MODEL, type ClassifyResult, type ModelInfo, type WorkerDiagnostics } from '../core/classifier-types';
import { errorNameOf } from '../core/errors';
import { percentile } from '../core/stats';

/** The largest value, 0 for none (no spread: the lists can be long). */
export const largest = (values: readonly number[]) => values.reduce((a, b) => Math.max(a, b), 0);

/** Upper bounds (ms) of the worker-time histogram's buckets; the last one is open-ended. */
export const HISTOGRAM_BOUNDS = [10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, Infinity] as const;

export interface DiagnosticsReport {
  generatedAt: string;
  release: string;
  model: { name: string; version: string; classes: number } | null;
  backend: ModelInfo['choice'] | null;
  device: { cores: number; crossOriginIsolated: boolean; userAgent: string };
  worker: WorkerDiagnostics | null;
  figures: {
    classifications: number;
    errors: Record<string, number>;
    workerMs: { p50: number; p95: number; max: number; histogram: { upToMs: number | null; count: number }[] };
    longTasks: { count: number; maxMs: number };
    memory: { tensors: number; bytes: number } | null;
  };
}

/**
 * What the app measured about itself since the page opened, for the Diagnostics panel and
 * its report: counts and timings only, never an image, a file name or a label. Recording
 * is a push per classification; nothing runs while the panel is closed.
 */
class Diagnostics {
  classifications = $state(0);
  errors = $state.raw<Record<string, number>>({});
  memory = $state.raw<{ tensors: number; bytes: number } | null>(null);
  /** Bumped when a long task is seen; the lists themselves grow in place (a camera adds 20 times a second). */
  private longTaskCount = $state(0);
  private readonly ms: number[] = [];
  private readonly tasks: number[] = [];

  /** Worker ms of every classification so far (read in an effect, it updates with each one). */
  get workerMs(): readonly number[] {
    void this.classifications;
    return this.ms;
  }

  get longTasks(): readonly number[] {
    void this.longTaskCount;
    return this.tasks;
  }

  /** Counts main-thread long tasks from now on. */
  observeLongTasks(): void {
    if (typeof PerformanceObserver === 'undefined' || !PerformanceObserver.supportedEntryTypes?.includes('longtask'))
      return;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.tasks.push(entry.duration);
      this.longTaskCount = this.tasks.length;
    }).observe({ type: 'longtask' });
  }

  recordResult(result: ClassifyResult): void {
    this.ms.push(result.ms);
    this.classifications++;
    this.memory = result.memory;
  }

  recordError(error: unknown): void {
    const name = errorNameOf(error);
    this.errors = { ...this.errors, [name]: (this.errors[name] ?? 0) + 1 };
  }

  histogram(): { upToMs: number | null; count: number }[] {
    return HISTOGRAM_BOUNDS.map((bound, i) => ({
      upToMs: Number.isFinite(bound) ? bound : null,
      count: this.workerMs.filter((ms) => ms <= bound && (i === 0 || ms > HISTOGRAM_BOUNDS[i - 1]!)).length,
    }));
  }

  report(info: ModelInfo | null, worker: WorkerDiagnostics | null): DiagnosticsReport {
    return {
      generatedAt: new Date().toISOString(),
      release: __GLIMPSE_RELEASE__,
      model: info ? { name: reportedName(info.model), version: info.model.version, classes: info.model.classes } : null,
      backend: info?.choice ?? null,
      device: {
        cores: navigator.hardwareConcurrency,
        crossOriginIsolated: globalThis.crossOriginIsolated === true,
        userAgent: navigator.userAgent,
      },
      worker,
      figures: {
        classifications: this.classifications,
        errors: this.errors,
        workerMs: {
          p50: percentile(this.ms, 0.5),
          p95: percentile(this.ms, 0.95),
          max: largest(this.ms),
          histogram: this.histogram(),
        },
        longTasks: { count: this.tasks.length, maxMs: largest(this.tasks) },
        memory: this.memory,
      },
    };
  }
}

/**
 * A model's name as the report may show it: the site's own models by name; the user's own (imported or
 * trained) withheld, since their names come from file names and labels ("trained: cat, dog").
 */
function reportedName(model: ModelInfo['model']): string {
  const site = model.id === BUILTIN_MODEL || __GLIMPSE_SHIPPED_MODELS__.some((m) => m.id === model.id);
  return site ? model.name : 'your own model (name withheld)';
}

export const diagnostics = new Diagnostics();
