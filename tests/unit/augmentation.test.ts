import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { augmentedViews, viewKey, viewRect, WHOLE_IMAGE } from '../../src/core/augmentation';
import { parseModelSpec } from '../../src/core/model-spec';
import { decodeImageFile } from '../../tools/node-io';
import { FIXTURES } from '../helpers/model';

const both = { flip: true, cropJitter: true };

describe('training augmentation views', () => {
  it('adds nothing unless asked, a mirror image for flip, and one crop for crop jitter', () => {
    expect(augmentedViews({ flip: false, cropJitter: false }, 42, 0)).toEqual([]);
    expect(augmentedViews({ flip: true, cropJitter: false }, 42, 0)).toEqual([{ mirrored: true, crop: null }]);
    const [mirror, crop] = augmentedViews(both, 42, 0);
    expect(mirror).toEqual({ mirrored: true, crop: null });
    expect(crop!.mirrored).toBe(false);
  });

  it('crops 80–95% of each side, inside the image, the same for the same seed and image, different otherwise', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const crop = augmentedViews({ flip: false, cropJitter: true }, 7, i)[0]!.crop!;
      for (const side of [crop.width, crop.height])
        (expect(side).toBeGreaterThanOrEqual(0.8), expect(side).toBeLessThanOrEqual(0.95));
      expect(crop.x).toBeGreaterThanOrEqual(0);
      expect(crop.y).toBeGreaterThanOrEqual(0);
      expect(crop.x + crop.width).toBeLessThanOrEqual(1);
      expect(crop.y + crop.height).toBeLessThanOrEqual(1);
      expect(augmentedViews({ flip: false, cropJitter: true }, 7, i)).toEqual(
        augmentedViews({ flip: false, cropJitter: true }, 7, i),
      );
      keys.add(viewKey(augmentedViews({ flip: false, cropJitter: true }, 7, i)[0]!));
    }
    expect(keys.size).toBe(200);
    expect(viewKey(augmentedViews(both, 8, 3)[1]!)).not.toBe(viewKey(augmentedViews(both, 7, 3)[1]!));
    expect(viewKey(WHOLE_IMAGE)).toBe('upright:whole');
  });

  it('turns a crop into a pixel rectangle of at least one pixel that stays inside', () => {
    expect(viewRect(WHOLE_IMAGE, 640, 480)).toEqual({ x: 0, y: 0, width: 640, height: 480 });
    expect(viewRect({ mirrored: false, crop: { x: 0.1, y: 0.05, width: 0.9, height: 0.8 } }, 100, 200)).toEqual({
      x: 10,
      y: 10,
      width: 90,
      height: 160,
    });
    expect(viewRect({ mirrored: false, crop: { x: 0.15, y: 0.15, width: 0.85, height: 0.85 } }, 1, 1)).toEqual({
      x: 0,
      y: 0,
      width: 1,
      height: 1,
    });
  });

  it('decodes a mirrored and a cropped view of a real photo in Node exactly as the view says', async () => {
    const spec = parseModelSpec(JSON.parse(readFileSync('public/model/metadata.json', 'utf8')));
    // Smaller than twice the model input, so no view is shrunk and pixels compare one to one.
    const path = join(FIXTURES, 'cat.png');
    const whole = await decodeImageFile(path, spec);
    const mirrored = await decodeImageFile(path, spec, { mirrored: true, crop: null });
    expect([mirrored.width, mirrored.height]).toEqual([whole.width, whole.height]);
    const at = (p: typeof whole, x: number, y: number) =>
      Array.from(p.data.subarray((y * p.width + x) * 3, (y * p.width + x) * 3 + 3));
    for (const [x, y] of [
      [0, 0],
      [17, 40],
      [whole.width - 1, whole.height - 1],
    ] as const)
      expect(at(mirrored, whole.width - 1 - x, y)).toEqual(at(whole, x, y));
    const view = { mirrored: false, crop: { x: 0.1, y: 0.1, width: 0.85, height: 0.85 } };
    const rect = viewRect(view, whole.width, whole.height);
    const cropped = await decodeImageFile(path, spec, view);
    expect([cropped.width, cropped.height]).toEqual([rect.width, rect.height]);
    expect(at(cropped, 5, 7)).toEqual(at(whole, rect.x + 5, rect.y + 7));
    const { width, height } = await sharp(path).metadata();
    expect([whole.width, whole.height]).toEqual([width, height]);
  });
});
