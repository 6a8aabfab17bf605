/** Counts work in progress, so that an update can wait until no classification is running. */
export class Activity {
  private running = 0;
  private waiters: (() => void)[] = [];
  private lastEnded = 0;

  async track<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      if (--this.running === 0) {
        this.lastEnded = performance.now();
        for (const resolve of this.waiters.splice(0)) resolve();
      }
    }
  }

  idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Resolves once nothing has run for `ms`, counted from this call or the end of the last
   * work, whichever is later: for background work that should wait for a user still busy.
   */
  async quiet(ms: number): Promise<void> {
    const since = performance.now();
    for (;;) {
      await this.idle();
      const left = Math.max(since, this.lastEnded) + ms - performance.now();
      if (left <= 0) {
        if (this.running === 0) return;
      } else await new Promise((done) => setTimeout(done, left));
    }
  }
}
