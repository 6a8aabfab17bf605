import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_TRAIN_OPTIONS, trainHead } from '../../model/training';
import { fitNearest, nearestProbabilities } from '../../src/core/nearest-neighbour';
import { seededRandom } from '../../src/core/stats';
import { decodeImageFile } from '../../tools/node-io';
import { loadModelDir, nodeEngine, tfjsOnly } from '../../tools/node-model';
import { runTraining } from '../../tools/train';
import { requireShared, SAMPLE_1000, sampleFiles, SUPER_CLASSES } from './shared';

describe('npm run train on a larger folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'glimpse-superclasses-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('separates four ImageNet super-classes (bird, reptile, dog, insect) on held-out images', async () => {
    requireShared();
    const files = sampleFiles();
    for (const [label, indices] of Object.entries(SUPER_CLASSES)) {
      mkdirSync(join(work, 'images', label), { recursive: true });
      for (const i of indices) symlinkSync(join(SAMPLE_1000, files[i]!), join(work, 'images', label, files[i]!));
    }
    const lines: string[] = [];
    const { valAccuracy } = await runTraining(
      { ...DEFAULT_TRAIN_OPTIONS, images: join(work, 'images'), out: join(work, 'model'), base: 'public/model' },
      (line) => lines.push(line),
    );
    console.log(lines.filter((l) => /images in|epochs in|^\|/.test(l)).join('\n'));
    expect(valAccuracy).toBeGreaterThanOrEqual(0.8);
  });
});

describe('few-shot nearest neighbour on held-out photos', () => {
  it('classifies four ImageNet super-classes from 5 photos each, and is as good as a head trained on the same 5', async () => {
    requireShared();
    const files = sampleFiles();
    const base = tfjsOnly(await loadModelDir(resolve('public/model')), 'few-shot');
    const engine = await nodeEngine(base);
    const labels = Object.keys(SUPER_CLASSES);
    const rand = seededRandom(5);
    const examples: { feature: Float32Array; label: number }[] = [];
    const heldOut: typeof examples = [];
    for (const [c, indices] of Object.values(SUPER_CLASSES).entries()) {
      const shuffled = [...indices].sort(() => rand() - 0.5);
      for (const [k, i] of shuffled.entries()) {
        const feature = await engine.features(
          await decodeImageFile(join(SAMPLE_1000, files[i]!), base.spec),
          base.spec.features!.node,
        );
        (k < 5 ? examples : heldOut).push({ feature, label: c });
      }
    }
    engine.dispose();
    const { head } = fitNearest(
      examples.map((e) => e.feature),
      examples.map((e) => e.label),
      labels.length,
    );
    const answers = heldOut.map((e) => nearestProbabilities(head, e.feature));
    const argmax = (p: Float32Array, n = p.length) =>
      Array.from(p.subarray(0, n).keys()).reduce((a, b) => (p[b]! > p[a]! ? b : a), 0);
    const right = answers.filter((p, k) => argmax(p, labels.length) === heldOut[k]!.label).length;
    const none = answers.filter((p) => argmax(p) === labels.length).length;
    await tf.setBackend('cpu');
    const trained = await trainHead(
      examples.map((e) => e.feature),
      examples.map((e) => e.label),
      labels.length,
      { train: examples.map((_, i) => i), val: [] },
      { ...DEFAULT_TRAIN_OPTIONS, epochs: 40 },
    );
    const headRight = heldOut.filter((e) => {
      const logits = trained.weights.reduce(
        (x, layer) =>
          Float32Array.from(layer.bias, (b, j) =>
            x.reduce((sum, v, i) => sum + v * layer.kernel[i * layer.kernelShape[1] + j]!, b),
          ),
        e.feature,
      );
      return argmax(logits) === e.label;
    }).length;
    console.log(
      `few-shot, 5 photos a class, 4 ImageNet super-classes, ${heldOut.length} held-out photos: nearest neighbour ${(right / heldOut.length).toFixed(3)} (${none} answered "none of these", threshold ${head.threshold.toFixed(3)}, scale ${head.scale.toFixed(1)}); a head trained on the same 20 photos ${(headRight / heldOut.length).toFixed(3)}`,
    );
    expect(right / heldOut.length).toBeGreaterThanOrEqual(0.7);
    expect(right / heldOut.length).toBeGreaterThanOrEqual(headRight / heldOut.length - 0.05);
  }, 300_000);
});
