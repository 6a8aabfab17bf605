import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { markdown, runBench, startBaseline } from '../../bench/run';

/** `npm run bench` in miniature (1 run, 3 images, wasm), so the benchmark cannot rot. */
describe('benchmark smoke run', () => {
  let baseline: Awaited<ReturnType<typeof startBaseline>>;
  beforeAll(async () => {
    baseline = await startBaseline();
  }, 120_000);
  afterAll(() => baseline.close());

  it('measures Glimpse and the baseline and prints the table with ratios and targets', async () => {
    const report = await runBench({
      glimpseUrl: inject('baseUrl'),
      baselineUrl: baseline.url,
      peerUrls: {},
      runs: 1,
      images: 3,
      batch: 3,
      backends: ['wasm'],
    });
    for (const target of [report.glimpse, report.baseline]) {
      expect(target.cold.firstResult).toBeGreaterThan(target.cold.ready);
      expect(target.cold.ready).toBeGreaterThan(target.cold.jsStarted);
      expect(target.cached.firstResult).toBeGreaterThan(0);
      expect(target.warm[0]).toMatchObject({ backend: 'wasm', n: 3 });
      expect(target.throughput.imagesPerSecond).toBeGreaterThan(0);
      expect(target.cold.bytes.model).toBeGreaterThan(3_000_000);
    }
    expect(report.glimpse.cold.bytes.js).toBeLessThan(report.baseline.cold.bytes.js);
    expect(report.targets).toHaveLength(10);
    for (const target of [report.glimpse, report.baseline]) {
      expect(target.userWait.singleP50).toBeGreaterThan(0);
      expect(target.userWait.outsideP50).toBeGreaterThanOrEqual(target.userWait.singleP50 / 2);
    }
    const table = markdown(report);
    expect(table).toMatch(/\| cold start: navigation → first result \| \d+ ms \| \d+ ms \| [\d.]+× \|/);
    expect(table).toMatch(/\| target \| value \| limit \| met \|/);
    // Every target was measured (an unmeasured one is NaN and meets nothing) and is printed with its verdict.
    for (const target of report.targets) {
      expect(Number.isFinite(target.value), target.name).toBe(true);
      expect(table).toContain(
        `| ${target.name} | ${target.value.toFixed(2)} | ${target.direction === 'at-most' ? '≤' : '≥'} ${target.limit} | ${target.met ? 'yes' : '**no**'} |`,
      );
    }
  });
});
