import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_OPTIONS } from '../../model/training';
import { runDistill } from '../../tools/distill';
import { runTraining } from '../../tools/train';
import { requireShared, SAMPLE_1000, sampleFiles, SUPER_CLASSES } from './shared';

describe('npm run distill on a 4-class task', () => {
  const work = mkdtempSync(join(tmpdir(), 'glimpse-distill-data-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('teaches the small student a head trained on the built-in model, from the unlabelled sample, and measures it on held-out labelled photos', async () => {
    requireShared();
    const files = sampleFiles();
    // The teacher learns from the even-numbered photos of each super-class; the odd-numbered ones are the test.
    const link = (dir: string, i: number) => symlinkSync(join(SAMPLE_1000, files[i]!), join(dir, files[i]!));
    const tested = new Set<number>();
    for (const [label, indices] of Object.entries(SUPER_CLASSES)) {
      for (const dir of ['train', 'test']) mkdirSync(join(work, dir, label), { recursive: true });
      indices.forEach((i, k) => {
        link(join(work, k % 2 ? 'test' : 'train', label), i);
        if (k % 2) tested.add(i);
      });
    }
    await runTraining(
      { ...DEFAULT_TRAIN_OPTIONS, images: join(work, 'train'), out: join(work, 'teacher'), base: 'public/model' },
      () => undefined,
    );
    // The student learns from every other photo of the sample, none of the test's, unlabelled.
    mkdirSync(join(work, 'photos'));
    files.forEach((_, i) => tested.has(i) || link(join(work, 'photos'), i));
    const lines: string[] = [];
    const report = await runDistill(
      {
        teacher: join(work, 'teacher'),
        images: join(work, 'photos'),
        out: join(work, 'student'),
        student: 'mobilenet_v1_0.25_128',
        test: join(work, 'test'),
        temperature: 3,
      },
      (line) => lines.push(line),
    );
    console.log(`distill, 4 super-classes: ${JSON.stringify(report)}`);
    expect([...report.classes].sort()).toEqual(['bird', 'dog', 'insect', 'reptile']);
    expect(report.accuracy!.images).toBe(tested.size);
    // Sanity bounds; the targets (agreement ≥ 0.92, accuracy within 3 points, ≤ 0.35× ms, ≤ 0.3× bytes) are the bench's.
    // Most held-out photos are of none of the four classes, where the teacher's answer is hard to guess.
    expect(report.agreement).toBeGreaterThan(0.5);
    expect(report.accuracy!.student).toBeGreaterThan(0.5);
    expect(report.bytes.student).toBeLessThan(0.3 * report.bytes.teacher);
  }, 1_800_000);
});
