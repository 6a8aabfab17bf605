import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  accuracyCoverage,
  calibration,
  coverageAt,
  fitOnHalf,
  fitTemperature,
  judgedAt,
  withTemperature,
} from '../../src/core/calibration';
import { parseModelSpec } from '../../src/core/model-spec';
import { decodeImageFile } from '../../tools/node-io';
import { nodeEngine } from '../../tools/node-model';
import { FIXTURES, loadShippedModel } from '../helpers/model';
import { seededRandom } from '../../src/core/stats';

const softmax = (z: number[]) => {
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return Float32Array.from(e, (v) => v / total);
};

describe('calibration figures', () => {
  it('computes the ECE over 15 equal-width bins of top-1 confidence, by hand', () => {
    const judged = [
      { confidence: 0.95, correct: true },
      { confidence: 0.95, correct: false },
      { confidence: 0.5, correct: true },
      { confidence: 0.0, correct: false },
    ];
    const { ece, bins } = calibration(judged);
    expect(bins).toHaveLength(15);
    expect(bins[14]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(bins[14]!.confidence).toBeCloseTo(0.95);
    // 0.5 lies on the edge of (7/15, 8/15]: the eighth bin.
    expect(bins[7]).toMatchObject({ count: 1, accuracy: 1, confidence: 0.5 });
    expect(bins[0]).toMatchObject({ count: 1, accuracy: 0, confidence: 0 });
    // 2/4 × |0.5 − 0.95| + 1/4 × |1 − 0.5| + 1/4 × 0
    expect(ece).toBeCloseTo(0.5 * 0.45 + 0.25 * 0.5, 10);
  });

  it('draws the accuracy–coverage curve, most confident first, and reads a threshold off it', () => {
    const judged = [0.9, 0.8, 0.8, 0.6, 0.3].map((confidence, i) => ({ confidence, correct: i !== 2 && i !== 4 }));
    const curve = accuracyCoverage(judged);
    expect(curve.map((p) => [p.threshold, p.coverage, p.accuracy])).toEqual([
      [0.9, 0.2, 1],
      [0.8, 0.6, 2 / 3],
      [0.6, 0.8, 0.75],
      [0.3, 1, 0.6],
    ]);
    expect(coverageAt(curve, 0.7)).toMatchObject({ coverage: 0.6 });
    expect(coverageAt(curve, 0.95)).toMatchObject({ coverage: 0 });
    expect(coverageAt(curve, 0)).toMatchObject({ coverage: 1, accuracy: 0.6 });
  });

  it('changes confidence with a temperature but never the ranking, and undoes it with 1/t', () => {
    const p = softmax([2, 0.5, -1, 0.4]);
    expect(withTemperature(p, 1)).toBe(p);
    for (const t of [0.5, 2, 5]) {
      const q = withTemperature(p, t);
      expect([...q].map((_, i) => i).sort((a, b) => q[b]! - q[a]!)).toEqual([0, 1, 3, 2]);
      expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      if (t > 1) expect(q[0]!).toBeLessThan(p[0]!);
      const back = withTemperature(q, 1 / t);
      for (let i = 0; i < p.length; i++) expect(back[i]!).toBeCloseTo(p[i]!, 5);
    }
  });

  it('fits the temperature that undoes a known overconfidence, and lowers the ECE on held-out answers', () => {
    const rng = seededRandom(23);
    const make = (n: number) => {
      const probabilities: Float32Array[] = [];
      const truth: number[] = [];
      for (let i = 0; i < n; i++) {
        const z = Array.from({ length: 10 }, () => 3 * (rng() - 0.5) * 2);
        const calibrated = softmax(z);
        // The truth drawn from the calibrated distribution; the model reports it 2.5× too sharp.
        let u = rng();
        let label = 0;
        while (label < 9 && (u -= calibrated[label]!) > 0) label++;
        truth.push(label);
        probabilities.push(softmax(z.map((v) => v * 2.5)));
      }
      return { probabilities, truth };
    };
    const fit = make(3000);
    const heldOut = make(3000);
    const t = fitTemperature(fit.probabilities, fit.truth);
    expect(t).toBeGreaterThan(2.2);
    expect(t).toBeLessThan(2.8);
    const before = calibration(judgedAt(heldOut.probabilities, heldOut.truth)).ece;
    const after = calibration(judgedAt(heldOut.probabilities, heldOut.truth, t)).ece;
    expect(after).toBeLessThan(before / 3);
  });

  it('says a fit helps only when it lowers the calibration error on the held-out half', () => {
    // Fit half (even places): sure and half wrong, so the fit softens a lot; held-out half (odd): sure and right, so softening hurts.
    const probabilities = Array.from({ length: 40 }, () => Float32Array.from([0.97, 0.03]));
    const truth = probabilities.map((_, i) => (i % 2 === 1 ? 0 : i % 4 === 0 ? 1 : 0));
    const worse = fitOnHalf(probabilities, truth, 1)!;
    expect(worse.temperature).toBeGreaterThan(1.5);
    expect(worse.after).toBeGreaterThan(worse.before);
    expect(worse.helps).toBe(false);
    // Both halves alike and overconfident: the fit lowers the held-out error, and helps.
    const alike = probabilities.map((_, i) => (i % 4 < 2 ? 1 : 0));
    const better = fitOnHalf(probabilities, alike, 1)!;
    expect(better.after).toBeLessThan(better.before);
    expect(better.helps).toBe(true);
  });

  it('reads output.temperature from metadata.json and refuses one out of range', () => {
    const meta = { input: { shape: [1, 4, 4, 3], range: [0, 1] } };
    expect(parseModelSpec({ ...meta, output: { temperature: 1.7 } }).temperature).toBe(1.7);
    expect(parseModelSpec(meta).temperature).toBeUndefined();
    for (const temperature of [0, -1, 50, '2'])
      expect(() => parseModelSpec({ ...meta, output: { temperature } })).toThrow(/output\.temperature/);
  });

  it('is applied by the engine to every answer: the same ranking, probabilities at the temperature', async () => {
    const files = await loadShippedModel();
    const engine = await nodeEngine(files);
    const pixels = await decodeImageFile(join(FIXTURES, 'cat.png'), files.spec);
    const plain = await engine.classify(pixels, 1000);
    engine.temperature = 2;
    const warm = await engine.classify(pixels, 1000);
    engine.dispose();
    const p = new Float32Array(1000);
    for (const x of plain.predictions) p[x.index] = x.probability;
    const expected = withTemperature(p, 2);
    expect(warm.predictions.slice(0, 5).map((x) => x.index)).toEqual(plain.predictions.slice(0, 5).map((x) => x.index));
    for (const x of warm.predictions.slice(0, 20)) expect(x.probability).toBeCloseTo(expected[x.index]!, 5);
    expect(warm.predictions[0]!.probability).toBeLessThan(plain.predictions[0]!.probability);
  });
});
