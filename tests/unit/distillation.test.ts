import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmax, OTHER_CLASS, softTargets, teacherAnswer } from '../../model/distillation';
import { trainHead } from '../../model/training';
import { DEFAULT_TRAIN_OPTIONS } from '../../src/core/train-options';
import { seededRandom } from '../../src/core/stats';
import { runDistill } from '../../tools/distill';
import { labelledVariants } from '../../harness/labelled-photos';
import { FIXTURES, MODEL_DIR } from '../helpers/model';

const work = mkdtempSync(join(tmpdir(), 'glimpse-distill-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const entropy = (p: Float32Array) => -p.reduce((s, v) => s + (v > 0 ? v * Math.log(v) : 0), 0);
const kl = (p: Float32Array, q: Float32Array) =>
  p.reduce((s, v, i) => s + (v > 0 ? v * Math.log(v / Math.max(q[i]!, 1e-12)) : 0), 0);

describe("the teacher's answers as targets", () => {
  const p = Float32Array.from([0.7, 0.2, 0.06, 0.04]);

  it('softens by the temperature, keeps the order and sums to one', () => {
    expect([...softTargets(p, 1, null)].map((v, i) => v - p[i]!).every((d) => Math.abs(d) < 1e-6)).toBe(true);
    const [t2, t4] = [softTargets(p, 2, null), softTargets(p, 4, null)];
    for (const t of [t2, t4]) {
      expect(t.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(argmax(t)).toBe(0);
      expect([...t]).toEqual([...t].sort((a, b) => b - a));
    }
    expect(entropy(t4)).toBeGreaterThan(entropy(t2));
    expect(entropy(t2)).toBeGreaterThan(entropy(p));
    // p^(1/T), renormalised: the ratio of two classes is their ratio's T-th root.
    expect(t2[0]! / t2[1]!).toBeCloseTo(Math.sqrt(0.7 / 0.2), 5);
  });

  it('keeps the chosen classes and gathers the rest as "other", whose answer counts as other', () => {
    const grouped = softTargets(p, 1, [2, 1]);
    expect([...grouped].map((v) => +v.toFixed(6))).toEqual([0.06, 0.2, 0.74]);
    // Softened after grouping: a teacher sure of a kept class among a thousand still teaches that class.
    const sure = new Float32Array(1000).fill(0.1 / 999);
    sure[7] = 0.9;
    const taught = softTargets(sure, 3, [7, 8]);
    expect(argmax(taught)).toBe(0);
    expect(taught[0]! / taught[2]!).toBeCloseTo(Math.cbrt(0.9 / (0.1 - 0.1 / 999)), 4);
    expect(teacherAnswer(p, [2, 1])).toBe(2);
    expect(teacherAnswer(p, [0])).toBe(0);
    expect(teacherAnswer(Float32Array.from([0.1, 0.45, 0.3, 0.15]), [1, 2])).toBe(0);
    // The teacher's top class is not kept, and the others it spreads over outweigh each kept one.
    expect(teacherAnswer(Float32Array.from([0.3, 0.25, 0.25, 0.2]), [1, 2])).toBe(2);
  });
});

describe('a student head trained on soft targets', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it("moves towards the teacher: its answers' distance to the teacher's falls far below a guess's, and it agrees", async () => {
    // A teacher that is a fixed linear map of 16 features to 4 classes, on 300 random photos' features.
    const random = seededRandom(3);
    const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
    const weights = Array.from({ length: 4 }, () => Array.from({ length: 16 }, gauss));
    const features = Array.from({ length: 300 }, () => Float32Array.from({ length: 16 }, gauss));
    const teacher = features.map((x) => {
      const logits = weights.map((w) => w.reduce((s, v, j) => s + v * x[j]!, 0));
      const top = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - top));
      const sum = e.reduce((a, b) => a + b, 0);
      return Float32Array.from(e, (v) => v / sum);
    });
    const targets = teacher.map((p) => softTargets(p, 3, null));
    const split = { train: [...Array(240).keys()], val: [...Array(60).keys()].map((i) => 240 + i) };
    const head = await trainHead(features, targets, 4, split, {
      ...DEFAULT_TRAIN_OPTIONS,
      epochs: 60,
      learningRate: 0.01,
    });
    const uniform = new Float32Array(4).fill(0.25);
    const before = split.val.reduce((s, i) => s + kl(targets[i]!, uniform), 0) / split.val.length;
    const after = split.val.reduce((s, i, k) => s + kl(targets[i]!, head.valProbabilities[k]!), 0) / split.val.length;
    expect(after).toBeLessThan(0.25 * before);
    const agree = split.val.filter((i, k) => argmax(head.valProbabilities[k]!) === argmax(teacher[i]!)).length;
    expect(agree / split.val.length).toBeGreaterThanOrEqual(0.9);
  });
});

describe('npm run distill', () => {
  it(
    'teaches the small student three of the built-in model’s classes from unlabelled photos, and writes a model the app loads',
    { timeout: 240_000 },
    async () => {
      const images = join(work, 'photos');
      for (const image of await labelledVariants(FIXTURES, 6)) {
        // Folder names are ignored: the photos are mixed into two folders regardless of their class.
        const dir = join(images, image.name.length % 2 ? 'a' : 'b');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, image.name), image.buffer);
      }
      const out = join(work, 'student');
      const lines: string[] = [];
      const report = await runDistill(
        {
          teacher: MODEL_DIR,
          images,
          out,
          student: 'mobilenet_v1_0.25_128',
          classes: ['macaw', 'hotdog', 'Egyptian cat'],
          temperature: 3,
        },
        (line) => lines.push(line),
      );
      expect(report.classes).toEqual(['macaw', 'hotdog, hot dog, red hot', 'Egyptian cat', OTHER_CLASS]);
      // 18 photos: every fifth (3) held out, and 2 of the other 15 stop the training early.
      expect(report.photos).toEqual({ train: 13, validation: 2, heldOut: 3 });
      expect(report.agreement).toBeGreaterThanOrEqual(0);
      expect(report.agreement).toBeLessThanOrEqual(1);
      expect(report.bytes.student).toBeLessThan(0.3 * report.bytes.teacher);
      expect(lines.some((l) => /^epoch 1: loss/.test(l))).toBe(true);
      const metadata = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')) as Record<string, unknown>;
      expect((metadata.output as Record<string, unknown>).temperature).toBeCloseTo(1 / 3, 3);
      expect(JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8'))).toEqual(report.classes);
      expect(readFileSync(join(out, 'LICENSE'), 'utf8')).toMatch(/Apache License/);
    },
  );
});
