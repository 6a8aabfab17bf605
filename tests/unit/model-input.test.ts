import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelInput } from '../../src/core/model-input';
import { parseModelSpec } from '../../src/core/model-spec';
import { opsInputTensor } from '../../bench/baseline/input-ops';
import { decodeImageFile } from '../../tools/node-io';
import { FIXTURES } from '../helpers/model';

const spec = parseModelSpec(JSON.parse(readFileSync('public/model/metadata.json', 'utf8')));

describe('model input in plain JS (for runtimes other than tfjs)', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it.each(['parrot.jpg', 'cat.png', 'bird.png'])('equals tfjs ops (cropAndResize, range) on %s', async (name) => {
    const pixels = await decodeImageFile(join(FIXTURES, name), spec);
    const ours = modelInput(pixels, spec);
    const theirs = opsInputTensor(pixels, spec);
    const expected = theirs.dataSync();
    theirs.dispose();
    expect(ours.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it('handles squashing, RGBA and another range', () => {
    const pixels = { data: Uint8ClampedArray.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) % 256), width: 5, height: 3, channels: 4 as const };
    const other = { ...spec, fit: 'squash' as const, range: [0, 255] as [number, number], inputSize: [4, 6] as [number, number] };
    const theirs = opsInputTensor(pixels, other);
    const expected = theirs.dataSync();
    theirs.dispose();
    const ours = modelInput(pixels, other);
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(expected[i]!, 3);
  });

  it('writes a uint8-quantized input as TFLite defines it: round(v / scale) + zero point, clamped', async () => {
    const pixels = await decodeImageFile(join(FIXTURES, 'parrot.jpg'), spec);
    const values = modelInput(pixels, spec);
    for (const q of [{ scale: 1 / 128, zeroPoint: 128 }, { scale: 0.02, zeroPoint: 100 }, { scale: 1 / 256, zeroPoint: 128 }]) {
      const quantized = modelInput(pixels, spec, q);
      expect(quantized).toBeInstanceOf(Uint8Array);
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(quantized[i]! - Math.max(0, Math.min(255, Math.round(values[i]! / q.scale) + q.zeroPoint))));
      // Rounding the same value computed in float32 or float64 may differ by one step at a .5.
      expect(worst).toBeLessThanOrEqual(1);
    }
    // Out of range clamps instead of wrapping: [-1, 1] at scale 1/256 spans -256…256 around 128.
    const wide = modelInput(pixels, spec, { scale: 1 / 256, zeroPoint: 128 });
    expect(wide.reduce((a, b) => Math.min(a, b))).toBe(0);
    expect(wide.reduce((a, b) => Math.max(a, b))).toBe(255);
  });
});
