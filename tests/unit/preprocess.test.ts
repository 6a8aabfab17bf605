import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/core/model-spec';
import { cropBox } from '../../src/core/model-input';
import { toInputTensor } from '../../model/preprocess';
import type { Pixels } from '../../src/core/model-input';
import { downscaleTarget } from '../../src/core/model-input';

const spec: ModelSpec = {
  name: 't',
  inputSize: [224, 224],
  range: [-1, 1],
  fit: 'crop',
  centralCrop: 0.875,
  layout: 'nhwc',
  outputIsLogits: false,
  classOffset: 0,
};

/** An image whose left half is black and right half white; alpha 255 (RGBA) or RGB. */
function halves(width: number, height: number, channels: 3 | 4): Pixels {
  const data = new Uint8ClampedArray(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = x < width / 2 ? 0 : 255;
      const i = (y * width + x) * channels;
      data.fill(v, i, i + 3);
      if (channels === 4) data[i + 3] = 255;
    }
  return { data, width, height, channels };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('geometry', () => {
  it('keeps the whole image when squashing', () => {
    expect(cropBox(640, 480, { fit: 'squash', centralCrop: 1 })).toEqual([0, 0, 1, 1]);
  });

  it('takes the whole central square when cropping at 1 (Teachable Machine)', () => {
    const [y1, x1, y2, x2] = cropBox(200, 100, { fit: 'crop', centralCrop: 1 });
    expect([y1, y2]).toEqual([0, 1]);
    expect(x1 * 199).toBeCloseTo(50, 6);
    expect(x2 * 199).toBeCloseTo(149, 6);
  });

  it('takes a central square of the given fraction of the shorter side', () => {
    const [y1, x1, y2, x2] = cropBox(201, 101, { fit: 'crop', centralCrop: 0.875 });
    // side 88.375 px: rows 6.3125..93.6875 of 0..100, columns 56.3125..143.6875 of 0..200
    expect(y1 * 100).toBeCloseTo(6.3125, 6);
    expect(y2 * 100).toBeCloseTo(93.6875, 6);
    expect(x1 * 200).toBeCloseTo(56.3125, 6);
    expect(x2 * 200).toBeCloseTo(143.6875, 6);
  });

  it('shrinks only images whose shorter side exceeds twice the input, keeping the aspect ratio', () => {
    expect(downscaleTarget(500, 375, spec)).toEqual({ width: 500, height: 375 });
    expect(downscaleTarget(4000, 3000, spec)).toEqual({ width: 597, height: 448 });
    expect(downscaleTarget(3000, 4000, spec)).toEqual({ width: 448, height: 597 });
  });
});

describe('toInputTensor', () => {
  it('normalises pixel 0 to range[0] and 255 to range[1], per the spec', () => {
    for (const range of [
      [-1, 1],
      [0, 1],
    ] as const) {
      const input = toInputTensor(halves(300, 200, 4), { ...spec, range });
      expect(input.shape).toEqual([1, 224, 224, 3]);
      const values = input.arraySync()[0]!;
      expect(values[112]![0]).toEqual([range[0], range[0], range[0]]);
      expect(values[112]![223]).toEqual([range[1], range[1], range[1]]);
      input.dispose();
    }
  });

  it('treats RGB and RGBA input alike', () => {
    const a = toInputTensor(halves(64, 48, 3), spec);
    const b = toInputTensor(halves(64, 48, 4), spec);
    expect(tf.max(tf.abs(tf.sub(a, b))).arraySync()).toBe(0);
    tf.dispose([a, b]);
  });

  it('crops the centre: a dark left margin outside the square does not reach the input', () => {
    const width = 400;
    const height = 200;
    const data = new Uint8ClampedArray(width * height * 3).fill(255);
    for (let y = 0; y < height; y++) data.fill(0, y * width * 3, (y * width + 100) * 3);
    const input = toInputTensor({ data, width, height, channels: 3 }, spec);
    expect(tf.min(input).arraySync()).toBe(1);
    input.dispose();
  });

  it('refuses a buffer that does not match its dimensions', () => {
    expect(() => toInputTensor({ data: new Uint8Array(10), width: 4, height: 4, channels: 3 }, spec)).toThrow(
      RangeError,
    );
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) toInputTensor(halves(100, 80, 4), spec).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
