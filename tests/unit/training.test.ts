import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainingViews } from '../../src/core/augmentation';
import { collectFeatures, DEFAULT_TRAIN_OPTIONS, outOfFold, stratifiedSplit, trainHead } from '../../model/training';
import { Engine } from '../../model/engine';
import { fetchModelFiles, type TfjsModelFiles } from '../../model/model-files';
import { recordFetcher, withManifest } from '../../model/model-records';
import { combineWithHead } from '../../model/trained-model';
import { FIXTURES, loadShippedModel, nodeTfjs } from '../helpers/model';
import {
  fitNearest,
  MAX_EXAMPLES_PER_CLASS,
  nearestProbabilities,
  NONE_OF_THESE,
} from '../../src/core/nearest-neighbour';
import { labelledVariants } from '../../harness/labelled-photos';

/** Two or three separable clusters of `dim`-wide features, deterministic. */
function clusters(perClass: number, classes: number, dim = 16): { features: Float32Array[]; labels: number[] } {
  let seed = 3;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.8;
  const features: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      features.push(Float32Array.from({ length: dim }, (_, d) => (d % classes === c ? 1 : 0) + noise()));
      labels.push(c);
    }
  }
  return { features, labels };
}

describe('out-of-fold answers for the training photos', () => {
  it('answers each training original once, by a head that never saw it: a mislabelled one is answered as what it is', async () => {
    await tf.setBackend('cpu');
    const { features, labels } = clusters(12, 2);
    const truth = [...labels];
    truth[3] = 1; // a class-0 photo filed under class 1
    const split = stratifiedSplit(truth, 0.2, 42);
    expect(split.train).toContain(3);
    // Two augmented views after the originals: trained on, never answered.
    const withViews = [...features, features[0]!, features[1]!];
    const views = [...truth, truth[0]!, truth[1]!];
    const train = [...split.train, 24, 25];
    const before = tf.memory().numTensors;
    const answers = await outOfFold(
      withViews,
      views,
      2,
      { train, val: split.val },
      24,
      { ...DEFAULT_TRAIN_OPTIONS, learningRate: 0.05 },
      30,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(answers.map((a) => a.index)).toEqual(split.train);
    const stray = answers.find((a) => a.index === 3)!;
    expect(stray.probabilities[0]).toBeGreaterThan(0.5);
  });
});

describe('stratified, seeded split', () => {
  it('holds out the same share of every class, the same way for the same seed', () => {
    const labels = [...Array(10).fill(0), ...Array(20).fill(1), ...Array(5).fill(2)];
    const a = stratifiedSplit(labels, 0.2, 7);
    expect(a.val.map((i) => labels[i])).toEqual([0, 0, 1, 1, 1, 1, 2]);
    expect([...a.train, ...a.val].sort((x, y) => x - y)).toEqual(labels.map((_, i) => i));
    expect(stratifiedSplit(labels, 0.2, 7)).toEqual(a);
    expect(stratifiedSplit(labels, 0.2, 8)).not.toEqual(a);
  });
});

describe('features of images and their augmented views', () => {
  it('puts the own vector of each image at its index and its views after all images, in the training set only', async () => {
    const truth = [0, 0, 0, 1, 1, 1];
    const split = { train: [0, 1, 3, 4], val: [2, 5] };
    const views = trainingViews(truth.length, split.train, { flip: true, cropJitter: false, seed: 1 });
    expect(views.map((v) => v.length)).toEqual([2, 2, 1, 2, 2, 1]);
    const got = await collectFeatures(truth, split, views, async (i, imageViews) =>
      imageViews.map((view) => Float32Array.of(i, view.mirrored ? 1 : 0)),
    );
    expect(got.features.map((f) => Array.from(f))).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 0],
      [0, 1],
      [1, 1],
      [3, 1],
      [4, 1],
    ]);
    expect(got.truth).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 1, 1]);
    expect(got.split).toEqual({ train: [0, 1, 3, 4, 6, 7, 8, 9], val: [2, 5] });
    expect(split.train).toEqual([0, 1, 3, 4]);
    expect(got.refused).toEqual([]);
  });

  it('leaves a refused image out of both sets, its views too', async () => {
    const truth = [0, 0, 0, 1, 1, 1];
    const split = { train: [0, 1, 3, 4], val: [2, 5] };
    const views = trainingViews(truth.length, split.train, { flip: true, cropJitter: false, seed: 1 });
    const got = await collectFeatures(truth, split, views, async (i, imageViews) =>
      i === 1 || i === 5 ? null : imageViews.map((view) => Float32Array.of(i, view.mirrored ? 1 : 0)),
    );
    expect(got.refused).toEqual([1, 5]);
    expect(got.split).toEqual({ train: [0, 3, 4, 6, 7, 8], val: [2] });
    expect(got.split.train.map((i) => Array.from(got.features[i]!))).toEqual([
      [0, 0],
      [3, 0],
      [4, 0],
      [0, 1],
      [3, 1],
      [4, 1],
    ]);
  });
});

describe('training a head on cached features', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it('learns separable classes (validation ≥ 0.95), its loss falls, and it leaks no tensor', async () => {
    const { features, labels } = clusters(40, 3);
    const split = stratifiedSplit(labels, 0.2, 1);
    const before = tf.memory().numTensors;
    const head = await trainHead(features, labels, 3, split, {
      ...DEFAULT_TRAIN_OPTIONS,
      epochs: 30,
      learningRate: 0.01,
    });
    expect(tf.memory().numTensors).toBe(before);
    const best = head.history[head.bestEpoch - 1]!;
    expect(best.valAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(head.history.at(-1)!.loss).toBeLessThan(head.history[0]!.loss);
    expect(head.weights).toHaveLength(1);
    expect(head.weights[0]!.kernelShape).toEqual([16, 3]);
  });

  it('keeps the weights of the epoch with the lowest validation loss when it stops early', async () => {
    const { features, labels } = clusters(20, 2);
    // Labels half shuffled: validation loss soon stops improving, and training stops early.
    const noisy = labels.map((l, i) => (i % 3 === 0 ? 1 - l : l));
    const split = stratifiedSplit(noisy, 0.3, 2);
    const head = await trainHead(features, noisy, 2, split, {
      ...DEFAULT_TRAIN_OPTIONS,
      epochs: 60,
      learningRate: 0.05,
      patience: 3,
    });
    const lowest = Math.min(...head.history.map((h) => h.valLoss));
    expect(head.history[head.bestEpoch - 1]!.valLoss).toBe(lowest);
    expect(head.history.length).toBeLessThan(60);
    // The probabilities it reports are the best epoch's: their cross-entropy is that epoch's validation loss.
    const loss =
      -split.val.reduce((sum, i, k) => sum + Math.log(head.valProbabilities[k]![noisy[i]!]!), 0) / split.val.length;
    expect(loss).toBeCloseTo(lowest, 4);
  });
});

describe('the trained model as one graph model', () => {
  let base: TfjsModelFiles;
  beforeAll(async () => {
    base = await loadShippedModel();
  }, 60_000);

  it('answers exactly as the base features followed by the head do', async () => {
    const engine = new Engine(base, [nodeTfjs]);
    await engine.prepare('wasm');
    await engine.select('wasm');
    const photos = ['parrot.jpg', 'hot_dog.jpg', 'cat.png'];
    const pixels = await Promise.all(
      photos.map(async (name) => {
        const { data, info } = await sharp(resolve(FIXTURES, name))
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        return { data, width: info.width, height: info.height, channels: 3 as const };
      }),
    );
    const features = await Promise.all(pixels.map((p) => engine.features(p, base.spec.features!.node)));
    expect(features[0]).toHaveLength(1280);
    await tf.setBackend('cpu');
    const head = await trainHead(
      features,
      [0, 1, 2],
      3,
      { train: [0, 1, 2], val: [0, 1, 2] },
      { ...DEFAULT_TRAIN_OPTIONS, epochs: 5 },
    );
    const files = combineWithHead(base.artifacts, base.spec, head, {
      name: 'three photos',
      labels: ['parrot', 'hot dog', 'cat'],
      options: DEFAULT_TRAIN_OPTIONS,
      validation: {
        n: 3,
        top1: 1,
        macro: { precision: 1, recall: 1, f1: 1 },
        weighted: { precision: 1, recall: 1, f1: 1 },
      },
      baseModel: base.spec.name,
    });
    const combined = await fetchModelFiles(
      'https://glimpse.test/t/',
      () => undefined,
      recordFetcher(await withManifest(files)),
    );
    expect(combined.labels).toEqual(['parrot', 'hot dog', 'cat']);
    const trained = new Engine(combined, [nodeTfjs]);
    await trained.prepare('wasm');
    await trained.select('wasm');
    for (const [i, p] of pixels.entries()) {
      const { predictions } = await trained.classify(p, 3);
      for (const prediction of predictions)
        expect(Math.abs(prediction.probability - head.valProbabilities[i]![prediction.index]!)).toBeLessThan(1e-4);
    }
    // The head stored smaller: float16 changes nothing that shows, uint8 a little.
    for (const [storage, tolerance] of [
      ['float16', 1e-3],
      ['uint8', 2e-2],
    ] as const) {
      const small = combineWithHead(
        base.artifacts,
        base.spec,
        head,
        {
          name: 'small',
          labels: ['parrot', 'hot dog', 'cat'],
          options: DEFAULT_TRAIN_OPTIONS,
          validation: {
            n: 3,
            top1: 1,
            macro: { precision: 1, recall: 1, f1: 1 },
            weighted: { precision: 1, recall: 1, f1: 1 },
          },
          baseModel: base.spec.name,
        },
        storage,
      );
      const loaded = new Engine(
        await fetchModelFiles('https://glimpse.test/s/', () => undefined, recordFetcher(await withManifest(small))),
        [nodeTfjs],
      );
      await loaded.prepare('wasm');
      await loaded.select('wasm');
      let worst = 0;
      for (const [i, p] of pixels.entries())
        for (const prediction of (await loaded.classify(p, 3)).predictions)
          worst = Math.max(worst, Math.abs(prediction.probability - head.valProbabilities[i]![prediction.index]!));
      console.log(
        `head as ${storage}: weights.bin ${small['weights.bin']!.byteLength} bytes (float32: ${files['weights.bin']!.byteLength}); largest probability change ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(tolerance);
      loaded.dispose();
    }
    engine.dispose();
    trained.dispose();
  });
});

describe('few-shot nearest neighbour', () => {
  it('answers by the most similar example, says "none of these" far from every class, and fits on the examples alone', () => {
    const { features, labels } = clusters(5, 3);
    const { head, probabilities } = fitNearest(features, labels, 3);
    expect(head.exemplars).toHaveLength(3 * 5);
    // Leave-one-out: every example is answered by its own class from the other four.
    probabilities.forEach((p, i) => expect(Array.from(p.keys()).sort((a, b) => p[b]! - p[a]!)[0]).toBe(labels[i]));
    for (const [i, vector] of features.entries()) {
      const p = nearestProbabilities(head, vector);
      expect(p).toHaveLength(4);
      expect(p.indexOf(Math.max(...p))).toBe(labels[i]);
    }
    // A feature like none of the examples (the dimensions no class is built on are absent here: all the same).
    const elsewhere = Float32Array.from({ length: 16 }, (_, d) => (d % 2 ? 1 : -1));
    const p = nearestProbabilities(head, elsewhere);
    expect(p.indexOf(Math.max(...p))).toBe(3);
    expect(head.threshold).toBeGreaterThan(0);
    expect(() =>
      fitNearest(clusters(MAX_EXAMPLES_PER_CLASS + 1, 2).features, clusters(MAX_EXAMPLES_PER_CLASS + 1, 2).labels, 2),
    ).toThrow(/at most/);
  });

  it('exports as one graph model that answers as the examples do, with "none of these" as its last class', async () => {
    const base = await loadShippedModel();
    const engine = new Engine(base, [nodeTfjs]);
    await engine.prepare('wasm');
    await engine.select('wasm');
    const variants = await labelledVariants(FIXTURES, 3, 0, 160);
    const pixels = await Promise.all(
      variants.map(async (v) => {
        const { data, info } = await sharp(v.buffer).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        return { data, width: info.width, height: info.height, channels: 3 as const };
      }),
    );
    const features = await Promise.all(pixels.map((p) => engine.features(p, base.spec.features!.node)));
    const classes = [...new Set(variants.map((v) => v.label))];
    const labels = variants.map((v) => classes.indexOf(v.label));
    const { head } = fitNearest(features, labels, classes.length);
    const validation = {
      n: 9,
      top1: 1,
      macro: { precision: 1, recall: 1, f1: 1 },
      weighted: { precision: 1, recall: 1, f1: 1 },
    };
    const files = combineWithHead(base.artifacts, base.spec, head, {
      name: 'few',
      labels: [...classes, NONE_OF_THESE],
      options: DEFAULT_TRAIN_OPTIONS,
      validation,
      baseModel: base.spec.name,
      examples: [3, 3, 3],
    });
    const loaded = new Engine(
      await fetchModelFiles('https://glimpse.test/n/', () => undefined, recordFetcher(await withManifest(files))),
      [nodeTfjs],
    );
    await loaded.prepare('wasm');
    await loaded.select('wasm');
    for (const [i, p] of pixels.entries()) {
      const expected = nearestProbabilities(head, features[i]!);
      const { predictions } = await loaded.classify(p, 4);
      for (const prediction of predictions)
        expect(Math.abs(prediction.probability - expected[prediction.index]!)).toBeLessThan(1e-4);
      expect(predictions[0]!.label).toBe(variants[i]!.label);
    }
    expect(JSON.parse(new TextDecoder().decode(files['metadata.json'])).training).toMatchObject({
      method: 'nearest',
      examples: [3, 3, 3],
    });
    engine.dispose();
    loaded.dispose();
  }, 60_000);
});
