import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  magnitudePrune,
  planOfSteps,
  prunableLayers,
  rankedSteps,
  SCAN_LEVELS,
  searchPlan,
  uniformPlan,
} from '../../model/pruning';
import { decodeSparse, densify, encodeSparse, type WeightEntry } from '../../model/sparse-weights';
import { entryByteLength } from '../../model/model-files';
import { quantize } from '../../src/core/weight-encoding';
import { readSource } from '../../tools/quantize';
import { filesOf, runPrune } from '../../tools/prune';
import { plot, runCompare } from '../../tools/compare';
import { decodeImageFile } from '../../tools/node-io';
import { loadModelDir, nodeEngine } from '../../tools/node-model';
import { EXPECTED_TOP1, FIXTURES, MODEL_DIR } from '../helpers/model';

const work = mkdtempSync(join(tmpdir(), 'glimpse-prune-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A seeded spread of values, some of equal magnitude. */
function values(n: number): Float32Array {
  let seed = 7;
  return Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.round(((seed / 2 ** 31) * 2 - 1) * 50) / 10;
  });
}

describe('magnitude pruning', () => {
  it('zeroes exactly round(s × n) values, the smallest magnitudes, earlier ones first among equals, and leaves the rest alone', () => {
    const original = values(1001);
    for (const sparsity of [0, 0.25, 0.5, 0.9, 1]) {
      const out = magnitudePrune(original, sparsity);
      const zeroed = [...out.keys()].filter((i) => out[i] === 0 && original[i] !== 0);
      const alreadyZero = [...original.keys()].filter((i) => original[i] === 0);
      // Zeros already there are the smallest magnitudes, so they count towards the share.
      expect(alreadyZero.length).toBeGreaterThan(0);
      expect(zeroed.length + alreadyZero.length).toBe(
        Math.max(alreadyZero.length, Math.round(sparsity * original.length)),
      );
      const kept = [...out.keys()].filter((i) => out[i] !== 0);
      for (const i of kept) expect(out[i]).toBe(original[i]);
      const largestGone = Math.max(0, ...zeroed.map((i) => Math.abs(original[i]!)));
      const smallestKept = Math.min(Infinity, ...kept.map((i) => Math.abs(original[i]!)));
      expect(largestGone).toBeLessThanOrEqual(smallestKept);
      // Among values of the threshold's magnitude, the earlier ones went.
      const tied = [...original.keys()].filter((i) => Math.abs(original[i]!) === largestGone && largestGone > 0);
      const firstKept = tied.findIndex((i) => out[i] !== 0);
      if (firstKept >= 0) expect(tied.slice(firstKept).every((i) => out[i] !== 0)).toBe(true);
    }
    expect(() => magnitudePrune(original, 1.5)).toThrow(RangeError);
  });

  it('names the layers of the shipped model: the first convolution, depthwise kernels and the classifier apart from the bulk, no biases', async () => {
    const source = await readSource(join(MODEL_DIR, 'model.json'));
    const layers = prunableLayers(source.weights);
    expect(layers).toHaveLength(53);
    expect(layers.every((l) => l.shape.length >= 2)).toBe(true);
    const byRole = (role: string) => layers.filter((l) => l.role === role).map((l) => l.name);
    expect(byRole('first-conv')).toEqual(['MobilenetV2/Conv/Conv2D_Fold/weights']);
    expect(byRole('classifier')).toEqual(['MobilenetV2/Logits/Conv2d_1c_1x1/Conv2D/weights']);
    expect(byRole('depthwise')).toHaveLength(17);
    expect(byRole('depthwise').every((name) => name.includes('depthwise'))).toBe(true);
    expect([...uniformPlan(layers, 0.4).keys()]).toEqual(byRole('bulk'));
  });
});

describe('sparse weights', () => {
  const pruned = magnitudePrune(values(999), 0.6);
  const cases: [string, ReturnType<typeof quantize>][] = [
    ['float32', quantize(pruned, 'float32')],
    ['float16', quantize(pruned, 'float16')],
    ['uint8', quantize(pruned, 'uint8')],
    ['uint16', quantize(pruned, 'uint16')],
  ];

  it.each(cases)('round-trips %s weights through a bitmap, smaller than dense', (_, q) => {
    const entry: WeightEntry = {
      name: 'w',
      shape: [27, 37],
      dtype: 'float32',
      ...(q.quantization ? { quantization: q.quantization } : {}),
    };
    const packed = encodeSparse(entry, q.bytes)!;
    expect(packed.kept).toBe(pruned.filter((v) => v !== 0).length);
    expect(packed.bytes.byteLength).toBeLessThan(q.bytes.byteLength);
    const sparse = { ...entry, sparse: { kept: packed.kept } };
    expect(entryByteLength(sparse)).toBe(packed.bytes.byteLength);
    expect(decodeSparse(sparse, packed.bytes)).toEqual(q.bytes);
  });

  it('stores dense what is not worth a bitmap, and refuses a bitmap that disagrees with model.json', () => {
    const dense = quantize(
      values(64).map((v) => v || 1),
      'uint8',
    );
    const entry: WeightEntry = { name: 'w', shape: [64], dtype: 'float32', quantization: dense.quantization! };
    expect(encodeSparse(entry, dense.bytes)).toBeNull();
    const q = quantize(magnitudePrune(values(20), 0.5), 'float32');
    const small: WeightEntry = { name: 'w', shape: [20], dtype: 'float32' };
    const packed = encodeSparse(small, q.bytes)!;
    expect(() => decodeSparse({ ...small, sparse: { kept: packed.kept + 1 } }, packed.bytes)).toThrow(/bitmap keeps/);
    const stray = packed.bytes.slice();
    stray[2]! |= 0x80;
    expect(() => decodeSparse({ ...small, sparse: { kept: packed.kept } }, stray)).toThrow(/bitmap keeps/);
    for (const kept of [-1, 21, 2.5, '3', null])
      expect(() => entryByteLength({ ...small, sparse: { kept } } as unknown as WeightEntry)).toThrow(/sparse/);
  });

  it('makes a group of dense and sparse entries dense, as tfjs reads them', () => {
    const a = quantize(values(10), 'float32');
    const b = quantize(magnitudePrune(values(40), 0.75), 'uint8');
    const entryB: WeightEntry = { name: 'b', shape: [40], dtype: 'float32', quantization: b.quantization! };
    const packed = encodeSparse(entryB, b.bytes)!;
    const stored = new Uint8Array([...a.bytes, ...packed.bytes]);
    const { entries, data } = densify(
      [
        { name: 'a', shape: [10], dtype: 'float32' },
        { ...entryB, sparse: { kept: packed.kept } },
      ],
      stored.buffer,
    );
    expect(entries.map((e) => 'sparse' in e)).toEqual([false, false]);
    expect(new Uint8Array(data)).toEqual(new Uint8Array([...a.bytes, ...b.bytes]));
  });
});

describe('the scan-guided plan', () => {
  const layers = prunableLayers([
    { name: 'first', shape: [3, 3, 3, 8], dtype: 'float32' },
    { name: 'big', shape: [1, 1, 64, 64], dtype: 'float32' },
    { name: 'touchy', shape: [1, 1, 64, 64], dtype: 'float32' },
    { name: 'head', shape: [64, 10], dtype: 'float32' },
  ]);
  const scan = layers.map((l) => ({
    layer: l.name,
    effects: SCAN_LEVELS.map((s) => (l.name === 'touchy' ? 100 * s : l.name === 'big' ? 0.01 * s : s)),
  }));

  it('takes the cheapest steps per weight removed first, each layer at the highest level taken', () => {
    const steps = rankedSteps(layers, scan);
    expect(steps.slice(0, SCAN_LEVELS.length).every((s) => s.layer === 'big')).toBe(true);
    expect(steps.at(-1)!.layer).toBe('touchy');
    expect(planOfSteps(steps, SCAN_LEVELS.length).get('big')).toBe(SCAN_LEVELS.at(-1));
  });

  it('finds the most steps within the allowed drop, with a handful of evaluations', async () => {
    const steps = rankedSteps(layers, scan);
    const total = layers.reduce((n, l) => n + l.count, 0);
    // Accuracy falls by one point for each 10% of the weights pruned.
    const accuracyOf = (plan: Map<string, number>) =>
      0.8 - (0.1 * layers.reduce((n, l) => n + l.count * (plan.get(l.name) ?? 0), 0)) / total;
    let evaluations = 0;
    const { plan, accuracy } = await searchPlan(steps, 0.8, 0.03, async (p) => (evaluations++, accuracyOf(p)));
    const best = [...Array(steps.length + 1).keys()].findLast((k) => 0.8 - accuracyOf(planOfSteps(steps, k)) <= 0.03)!;
    expect(best).toBeGreaterThan(0);
    expect(best).toBeLessThan(steps.length);
    expect([...plan]).toEqual([...planOfSteps(steps, best)]);
    expect(accuracy).toBeCloseTo(accuracyOf(plan), 12);
    expect(evaluations).toBeLessThanOrEqual(Math.ceil(Math.log2(steps.length)) + 1);
  });
});

describe('npm run prune on the shipped model', () => {
  it(
    'writes a smaller model whose pruned weights are exact, which the app’s loader decodes and which answers like the dense pruned model',
    { timeout: 180_000 },
    async () => {
      const out = join(work, 'uniform');
      const report = await runPrune({ model: MODEL_DIR, out, sparsity: 0.5, maxDrop: 0.015 });
      expect(report.mode).toBe('uniform');
      expect(report.bytes.after.raw).toBeLessThan(0.8 * report.bytes.before.raw);
      expect(report.bytes.after.gzip).toBeLessThan(report.bytes.before.gzip);
      const modelJson = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      const entries = modelJson.weightsManifest.flatMap((g) => g.weights) as WeightEntry[];
      const bulk = report.layers.filter((l) => l.role === 'bulk');
      expect(bulk.every((l) => l.sparsity === 0.5)).toBe(true);
      // Every pruned layer is stored sparse (and any other whose zeros make a bitmap smaller).
      const sparse = new Set(entries.filter((e) => e.sparse).map((e) => e.name));
      expect(bulk.filter((l) => !sparse.has(l.name))).toEqual([]);

      // Decoded by the loader, each pruned layer is the source's weights magnitude-pruned, to the stored precision.
      const source = await readSource(MODEL_DIR);
      const layers = prunableLayers(source.weights);
      const loaded = await loadModelDir(out);
      if (loaded.format !== 'graph-model') throw new Error('a graph model was written');
      const decoded = tf.io.decodeWeights(loaded.artifacts.weightData!, loaded.artifacts.weightSpecs!);
      for (const layer of bulk) {
        const original = source.weights.find((w) => w.name === layer.name)!.values as Float32Array;
        const expected = magnitudePrune(original, 0.5);
        const got = decoded[layer.name]!.dataSync();
        const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127;
        let worst = 0;
        for (let i = 0; i < got.length; i++) {
          expect(got[i] === 0).toBe(expected[i] === 0);
          worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
        }
        expect(worst).toBeLessThan(scale / 2);
      }
      tf.dispose(Object.values(decoded));

      // The app's loader decoding the sparse files gives what the same pruning kept dense in memory answers.
      const [sparseEngine, denseEngine] = await Promise.all([
        nodeEngine(loaded),
        filesOf(source, uniformPlan(layers, 0.5)).then((files) => nodeEngine(files)),
      ]);
      try {
        for (const file of Object.keys(EXPECTED_TOP1)) {
          const pixels = await decodeImageFile(resolve(FIXTURES, file), loaded.spec);
          const a = await sparseEngine.probabilities(pixels);
          const b = await denseEngine.probabilities(pixels);
          expect(a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)).toBeLessThan(1e-6);
        }
      } finally {
        sparseEngine.dispose();
        denseEngine.dispose();
      }

      // npm run compare puts the two side by side on the fixtures, labelled with the shipped model's own answers.
      const csv = join(work, 'fixtures.csv');
      writeFileSync(
        csv,
        Object.entries(EXPECTED_TOP1)
          .map(([file, index]) => `${resolve(FIXTURES, file)},${index}`)
          .join('\n'),
      );
      const compared = await runCompare([MODEL_DIR, out], csv);
      expect(compared.images).toBe(5);
      const [original, prunedRow] = compared.rows;
      expect(original).toMatchObject({ top1: 1, agreement: 1, classes: 1000 });
      expect(prunedRow!.bytes.raw).toBe(report.bytes.after.raw);
      expect(prunedRow!.agreement).toBe(prunedRow!.top1);
      expect(plot(compared.rows).match(/<circle /g)).toHaveLength(2);
    },
  );
});
