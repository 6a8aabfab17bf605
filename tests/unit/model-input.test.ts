import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelInput, quantize } from '../../src/core/model-input';
import { parseModelSpec } from '../../src/core/model-spec';
import { toInputTensor } from '../../src/core/preprocess';
import { decodeImageFile } from '../../tools/node-io';
import { FIXTURES } from '../helpers/model';

const spec = parseModelSpec(JSON.parse(readFileSync('public/model/metadata.json', 'utf8')));

describe('model input in plain JS (for runtimes other than tfjs)', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it.each(['parrot.jpg', 'cat.png', 'bird.png'])('equals toInputTensor (crop, bilinear resize, range) on %s', async (name) => {
    const pixels = await decodeImageFile(join(FIXTURES, name), spec);
    const ours = modelInput(pixels, spec);
    const theirs = toInputTensor(pixels, spec);
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
    const theirs = toInputTensor(pixels, other);
    const expected = theirs.dataSync();
    theirs.dispose();
    const ours = modelInput(pixels, other);
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(expected[i]!, 3);
  });

  it('quantizes as TFLite does: round(v / scale) + zero point, clamped', () => {
    expect(Array.from(quantize(Float32Array.from([-1, 0, 0.5, 1, 2]), 1 / 128, 128, 'uint8'))).toEqual([0, 128, 192, 255, 255]);
    expect(Array.from(quantize(Float32Array.from([-2, -1, 0, 0.99]), 1 / 128, 0, 'int8'))).toEqual([-128, -128, 0, 127]);
  });
});
