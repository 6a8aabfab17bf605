import { describe, expect, it } from 'vitest';
import type { TargetResult } from '../../bench/run';
import { benchTargets, judge, PEERS } from '../../bench/targets';

function result(p50: number, firstResult: number, js: number, imagesPerSecond: number, longTasks = 0): TargetResult {
  const timing = {
    jsStarted: 100,
    modelDownloaded: 200,
    ready: 300,
    warmup: 50,
    firstResult,
    bytes: { js, wasm: 400_000, model: 3_500_000 },
  };
  return {
    userWait: { singleP50: p50 * 1.4, outsideP50: p50 * 1.6, batchMs: p50 * 12, n: 10 },
    cold: timing,
    cached: { ...timing, firstResult: firstResult * 0.7 },
    warm: [{ backend: 'wasm', n: 20, p50, p95: p50 * 1.5, batchP50: p50 * 1.2 }],
    auto: { backend: 'wasm', n: 20, p50, p95: p50 * 1.5, batchP50: p50 * 1.2 },
    throughput: { imagesPerSecond, longTasksOver50: longTasks, longestTask: 40 },
    distBytes: 6_000_000,
  } as unknown as TargetResult;
}

describe('bench targets', () => {
  it('judge by their direction, and an unmeasured value meets none', () => {
    expect(judge({ name: 'x', value: 5, limit: 5, direction: 'at-most' }).met).toBe(true);
    expect(judge({ name: 'x', value: 6, limit: 5, direction: 'at-most' }).met).toBe(false);
    expect(judge({ name: 'x', value: 4, limit: 5, direction: 'at-least' }).met).toBe(false);
    expect(judge({ name: 'x', value: 5, limit: 5, direction: 'at-least' }).met).toBe(true);
    expect(judge({ name: 'x', value: NaN, limit: 5, direction: 'at-most' }).met).toBe(false);
  });

  it('compute each ratio from the two pages of one run', () => {
    const targets = benchTargets(result(45, 700, 200_000, 20), result(43, 1000, 1_000_000, 17), 50);
    const byName = Object.fromEntries(targets.map((t) => [t.name, t]));
    expect(byName['warm latency, automatic / baseline best backend (ratio)']).toMatchObject({
      value: 45 / 43,
      met: true,
    });
    expect(byName['cold start / baseline (ratio)']).toMatchObject({ value: 0.7, met: true });
    // Seen from outside the page, within 1.1× the plain page's.
    expect(byName['photo chosen → answer on screen, from outside the page / baseline (ratio)']).toMatchObject({
      value: 45 / 43,
      met: true,
    });
    expect(byName['JS before first result / baseline (ratio)']).toMatchObject({ value: 0.2, met: true });
    // A batch is held to its own photos' time (45 × 1.2 ms here), not to one photo's.
    expect(byName['batch throughput / (0.9 × 1000 / warm latency in a batch) (ratio)']!.value).toBeCloseTo(
      20 / (900 / 54),
    );
    expect(byName['batch throughput / (0.9 × 1000 / warm latency in a batch) (ratio)']!.met).toBe(true);
    expect(byName['long tasks > 50 ms during 50 classifications']!.met).toBe(true);
  });

  it('fail when Glimpse is slower, heavier or janky', () => {
    const failed = benchTargets(result(90, 2000, 900_000, 5, 3), result(43, 1000, 1_000_000, 17), 50)
      .filter((t) => !t.met)
      .map((t) => t.name);
    expect(failed).toHaveLength(10);
  });

  it('hold the cold start over the slow link to 0.8× the plain page, and a batch right after the first result to the fastest engine within 2 s', () => {
    const glimpse = {
      ...result(27, 700, 200_000, 20),
      coldOverLink: { firstResult: 2400 },
      earlyBatch: { from: 'wasm', to: 'wasm', onLastEngineMs: 1500, n: 50 },
    } as unknown as TargetResult;
    const baseline = {
      ...result(43, 1000, 1_000_000, 17),
      coldOverLink: { firstResult: 3200 },
    } as unknown as TargetResult;
    const byName = Object.fromEntries(benchTargets(glimpse, baseline, 50).map((t) => [t.name, t]));
    expect(byName['cold start over the slow link / baseline (ratio)']).toMatchObject({ value: 0.75, met: true });
    const early = 'a batch right after the first result: change → first result on the fastest engine (ms)';
    expect(byName[early]).toMatchObject({ value: 1500, met: true });
    // A batch that ended on another engine than the one the automatic choice settles on never reached the fastest.
    const elsewhere = { ...glimpse, auto: { ...glimpse.auto!, backend: 'litert' } } as TargetResult;
    expect(Object.fromEntries(benchTargets(elsewhere, baseline, 50).map((t) => [t.name, t]))[early]!.met).toBe(false);
  });

  it('hold the automatic choice to LiteRT.js, and an isolated build to LiteRT.js with threads, when those peers ran', () => {
    const peer = (name: string, p50: number) => ({
      name,
      warm: { backend: 'litert', n: 20, p50, p95: p50, batchP50: p50 },
      cold: result(p50, 700, 0, 0).cold,
    });
    const peers = [peer(PEERS.liteRt, 30), peer(PEERS.liteRtThreads, 20), peer(PEERS.glimpseIsolated, 25)];
    const byName = Object.fromEntries(
      benchTargets(result(27, 700, 200_000, 20), result(43, 1000, 1_000_000, 17), 50, peers).map((t) => [t.name, t]),
    );
    expect(byName[`warm latency, automatic / ${PEERS.liteRt} (ratio)`]).toMatchObject({ value: 27 / 30, met: true });
    expect(byName[`warm latency, isolated Glimpse / ${PEERS.liteRtThreads} (ratio)`]).toMatchObject({
      value: 25 / 20,
      met: false,
    });
    expect(byName[`warm latency in a batch, automatic / ${PEERS.liteRt} (ratio)`]).toMatchObject({
      value: (27 * 1.2) / 30,
      met: false,
    });
    expect(benchTargets(result(27, 700, 200_000, 20), result(43, 1000, 1_000_000, 17), 50, [])).toHaveLength(10);
  });
});
