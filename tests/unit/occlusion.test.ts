import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { HEATMAP_CELLS, occlusionMap, seenRegion } from '../../src/core/occlusion';
import type { Pixels } from '../../src/core/model-input';
import { nodeEngine } from '../../tools/node-model';
import { EXPECTED_TOP1, FIXTURES, loadShippedModel } from '../helpers/model';

/** Two photos in opposite quadrants of a grey 448×448 square (a pointing-game image). */
async function composite(topLeft: string, bottomRight: string): Promise<Pixels> {
  const tile = (name: string) =>
    sharp(join(FIXTURES, name)).resize(224, 224, { fit: 'cover' }).removeAlpha().png().toBuffer();
  const { data, info } = await sharp({
    create: { width: 448, height: 448, channels: 3, background: { r: 128, g: 128, b: 128 } },
  })
    .composite([
      { input: await tile(topLeft), left: 0, top: 0 },
      { input: await tile(bottomRight), left: 224, top: 224 },
    ])
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 };
}

describe('occlusion sensitivity', () => {
  it('maps the region the model sees back onto the photo: the central crop, or all of it when squashed', () => {
    expect(seenRegion(400, 200, { fit: 'crop', centralCrop: 0.875 })).toEqual({ x: 112.5, y: 12.5, w: 175, h: 175 });
    expect(seenRegion(400, 200, { fit: 'squash', centralCrop: 1 })).toEqual({ x: 0, y: 0, w: 400, h: 200 });
  });

  it('finds a patch that matters, on a stand-in model, in photo coordinates', async () => {
    // A "model" whose class probability is the brightness of one spot: only hiding that spot lowers it.
    const width = 300;
    const height = 200;
    const data = new Uint8ClampedArray(width * height * 3).fill(250);
    const spot = { x: 240, y: 60 };
    const map = await occlusionMap(
      { data, width, height, channels: 3 },
      { fit: 'squash', centralCrop: 1 },
      0,
      async (p) => p.data[(spot.y * width + spot.x) * 3]! / 255,
    );
    expect(map.values).toHaveLength(HEATMAP_CELLS * HEATMAP_CELLS);
    expect(Math.max(...map.values)).toBe(1);
    expect(Math.abs(map.peak.x - spot.x / width)).toBeLessThan(0.12);
    expect(Math.abs(map.peak.y - spot.y / height)).toBeLessThan(0.12);
    expect(map.runs).toBe(1 + 25 + 81);
    let cancelled = 0;
    await expect(
      occlusionMap({ data, width, height, channels: 3 }, { fit: 'squash', centralCrop: 1 }, 0, async () => 1, {
        cancelled: () => ++cancelled > 3,
      }),
    ).rejects.toThrow(expect.objectContaining({ name: 'CancelledError' }));
  });

  it('points at the right photo of two (the pointing game), on the real model', async () => {
    const files = await loadShippedModel();
    const engine = await nodeEngine(files);
    const pixels = await composite('parrot.jpg', 'hot_dog.jpg');
    const probability = (index: number) => async (p: Pixels) => (await engine.probabilities(p))[index]!;
    const parrot = await occlusionMap(
      pixels,
      files.spec,
      EXPECTED_TOP1['parrot.jpg']!,
      probability(EXPECTED_TOP1['parrot.jpg']!),
    );
    const hotdog = await occlusionMap(
      pixels,
      files.spec,
      EXPECTED_TOP1['hot_dog.jpg']!,
      probability(EXPECTED_TOP1['hot_dog.jpg']!),
    );
    engine.dispose();
    expect(parrot.peak.x < 0.5 && parrot.peak.y < 0.5, JSON.stringify(parrot.peak)).toBe(true);
    expect(hotdog.peak.x > 0.5 && hotdog.peak.y > 0.5, JSON.stringify(hotdog.peak)).toBe(true);
  }, 60_000);
});
