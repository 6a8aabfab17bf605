import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const SHARED = resolve(import.meta.dirname, '../../../shared');
export const SAMPLE_1000 = resolve(SHARED, 'images/imagenet-sample-1000');
export const CORAL = resolve(SHARED, 'images/coral');

/** Four super-classes of the ImageNet sample, by class index (one image per class). */
export const SUPER_CLASSES: Record<string, number[]> = {
  bird: [...range(7, 24), ...range(80, 100)],
  reptile: range(25, 68),
  dog: range(151, 190),
  insect: range(300, 326),
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export function requireShared(): void {
  if (!existsSync(SAMPLE_1000))
    throw new Error(`${SHARED} is missing: npm run test:data needs the team's shared data beside the repo`);
}

/** The sample's files in sorted order: file i is an image of class i. */
export function sampleFiles(): string[] {
  return readdirSync(SAMPLE_1000)
    .filter((f) => f.endsWith('.JPEG'))
    .sort();
}

export interface CoralExpectation {
  index: number;
  /** The reference's lead of its top-1 over its top-2, in percentage points. */
  margin: number;
}

/** Expected top-1 per coral photo, from the "crop" section of PREDICTIONS.txt. */
export function coralExpectations(): Record<string, CoralExpectation> {
  const text = readFileSync(resolve(CORAL, 'PREDICTIONS.txt'), 'utf8');
  const crop = text.split(/^## /m).find((section) => section.includes(', crop'))!;
  return Object.fromEntries(
    [...crop.matchAll(/^(\S+)\s+.*?\((\d+)\) ([\d.]+)% \| .*?\(\d+\) ([\d.]+)%/gm)].map((m) => [
      m[1]!,
      { index: Number(m[2]), margin: Number(m[3]) - Number(m[4]) },
    ]),
  );
}
