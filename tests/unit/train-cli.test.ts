import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_OPTIONS } from '../../model/training';
import { runTraining } from '../../tools/train';
import { labelledVariants } from '../../harness/labelled-photos';
import { FIXTURES } from '../helpers/model';

const work = mkdtempSync(join(tmpdir(), 'glimpse-train-cli-'));

describe('npm run train with augmentation', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(
    'adds a mirror image and a crop of every training image, to the training set only',
    { timeout: 120_000 },
    async () => {
      for (const image of await labelledVariants(FIXTURES, 5)) {
        mkdirSync(join(work, 'images', image.label), { recursive: true });
        writeFileSync(join(work, 'images', image.label, image.name), image.buffer);
      }
      const lines: string[] = [];
      const options = {
        ...DEFAULT_TRAIN_OPTIONS,
        epochs: 3,
        images: join(work, 'images'),
        out: join(work, 'model'),
        base: 'public/model',
      };
      await runTraining({ ...options, flip: true, cropJitter: true }, (line) => lines.push(line));
      // 15 photos, 3 held out (one per class): 12 to train, each with two more views.
      expect(lines.join('\n')).toMatch(/15 images in 3 classes .*; 39 feature vectors/);
      expect(lines.join('\n')).toMatch(/36 to train \(with augmented views\), 3 to validate/);
      lines.length = 0;
      await runTraining(options, (line) => lines.push(line));
      expect(lines.join('\n')).toMatch(/12 to train, 3 to validate/);
    },
  );
});

describe('npm run train --nearest', () => {
  it(
    'writes a few-shot nearest-neighbour model with a "none of these" class, checked by leave-one-out',
    { timeout: 120_000 },
    async () => {
      const dir = join(work, 'few');
      for (const image of await labelledVariants(FIXTURES, 4)) {
        mkdirSync(join(dir, image.label), { recursive: true });
        writeFileSync(join(dir, image.label, image.name), image.buffer);
        // The same photos again, as a folder chosen twice leaves them: counted once.
        writeFileSync(join(dir, image.label, `copy-${image.name}`), image.buffer);
      }
      const lines: string[] = [];
      const { valAccuracy } = await runTraining(
        {
          ...DEFAULT_TRAIN_OPTIONS,
          method: 'nearest',
          images: dir,
          out: join(work, 'few-model'),
          base: 'public/model',
        },
        (line) => lines.push(line),
      );
      expect(lines.join('\n')).toMatch(/12 exact duplicate images left out/);
      expect(lines.join('\n')).toMatch(/nearest neighbour on 12 photos: leave-one-out accuracy 1;/);
      expect(valAccuracy).toBe(1);
      expect(JSON.parse(readFileSync(join(work, 'few-model', 'labels.json'), 'utf8'))).toEqual([
        'cat',
        'hotdog',
        'parrot',
        'none of these',
      ]);
      expect(JSON.parse(readFileSync(join(work, 'few-model', 'metadata.json'), 'utf8')).training).toMatchObject({
        method: 'nearest',
        examples: [4, 4, 4],
      });
    },
  );
});
