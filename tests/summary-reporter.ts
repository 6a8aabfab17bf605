import type { Reporter, TestModule } from 'vitest/node';

/** Prints the plain `N passed, N failed` line that CI reads, after vitest's own summary. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed' || state === 'skipped') counts[state]++;
      }
      // A file that failed outside its tests (an import, a beforeAll hook) counts once, even when
      // its tests were then skipped rather than failed.
      if (module.state() === 'failed' && ![...module.children.allTests()].some((t) => t.result().state === 'failed'))
        counts.failed++;
    }
    console.log(
      `\n${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`,
    );
  }
}
