import { RunTimes, type RunWatch } from '../src/core/run-budget';
import type { Pixels } from '../src/core/model-input';
import type { Runner } from './runner';

/** A runner whose every run is told to a watch, with a budget from its own recent runs. */
export class WatchedRunner implements Runner {
  private readonly times = new RunTimes();

  constructor(
    private readonly inner: Runner,
    private readonly watch: RunWatch,
  ) {
    if (inner.features) this.features = (pixels, node) => this.watched(() => inner.features!(pixels, node));
  }

  features?: (pixels: Pixels, node: string) => Promise<Float32Array>;

  run(pixels: Pixels | null): Promise<Float32Array> {
    return this.watched(() => this.inner.run(pixels));
  }

  private async watched(run: () => Promise<Float32Array>): Promise<Float32Array> {
    this.watch.started(this.times.budgetMs());
    const start = performance.now();
    try {
      return await run();
    } finally {
      this.times.record(performance.now() - start);
      this.watch.ended();
    }
  }

  dispose(): void {
    this.inner.dispose();
  }
}
