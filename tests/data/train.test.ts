import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_OPTIONS } from '../../src/core/training';
import { runTraining } from '../../tools/train';
import { requireShared, SAMPLE_1000, sampleFiles } from './shared';

/** Four super-classes of the ImageNet sample, by class index (one image per class). */
const SUPER_CLASSES: Record<string, number[]> = {
  bird: [...range(7, 24), ...range(80, 100)],
  reptile: range(25, 68),
  dog: range(151, 190),
  insect: range(300, 326),
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

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
    const { valAccuracy } = await runTraining({ ...DEFAULT_TRAIN_OPTIONS, images: join(work, 'images'), out: join(work, 'model'), base: 'public/model' }, (line) => lines.push(line));
    console.log(lines.filter((l) => /images in|epochs in|^\|/.test(l)).join('\n'));
    expect(valAccuracy).toBeGreaterThanOrEqual(0.8);
  });
});
