import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { inputShape, modelInput } from '../../src/core/model-input';
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
    const pixels = {
      data: Uint8ClampedArray.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) % 256),
      width: 5,
      height: 3,
      channels: 4 as const,
    };
    const other = {
      ...spec,
      fit: 'squash' as const,
      range: [0, 255] as [number, number],
      inputSize: [4, 6] as [number, number],
    };
    const theirs = opsInputTensor(pixels, other);
    const expected = theirs.dataSync();
    theirs.dispose();
    const ours = modelInput(pixels, other);
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(expected[i]!, 3);
  });

  it('writes a uint8-quantized input as TFLite defines it: round(v / scale) + zero point, clamped', async () => {
    const pixels = await decodeImageFile(join(FIXTURES, 'parrot.jpg'), spec);
    const values = modelInput(pixels, spec);
    for (const q of [
      { scale: 1 / 128, zeroPoint: 128 },
      { scale: 0.02, zeroPoint: 100 },
      { scale: 1 / 256, zeroPoint: 128 },
    ]) {
      const quantized = modelInput(pixels, spec, q);
      expect(quantized).toBeInstanceOf(Uint8Array);
      let worst = 0;
      for (let i = 0; i < values.length; i++)
        worst = Math.max(
          worst,
          Math.abs(quantized[i]! - Math.max(0, Math.min(255, Math.round(values[i]! / q.scale) + q.zeroPoint))),
        );
      // Rounding the same value computed in float32 or float64 may differ by one step at a .5.
      expect(worst).toBeLessThanOrEqual(1);
    }
    // Out of range clamps instead of wrapping: [-1, 1] at scale 1/256 spans -256…256 around 128.
    const wide = modelInput(pixels, spec, { scale: 1 / 256, zeroPoint: 128 });
    expect(wide.reduce((a, b) => Math.min(a, b))).toBe(0);
    expect(wide.reduce((a, b) => Math.max(a, b))).toBe(255);
  });

  it('rounds a quantized value to a byte exactly as Math.round does, at and just beside every half', () => {
    // A black 1×1 photo with the range [v, v + 1] at scale 1 gives the value v itself.
    const black = { data: new Uint8ClampedArray([0, 0, 0, 255]), width: 1, height: 1, channels: 4 as const };
    const at = (v: number) =>
      modelInput(black, { ...spec, inputSize: [1, 1], range: [v, v + 1] }, { scale: 1, zeroPoint: 0 })[0];
    const values = [-1, -0.5, Number.MIN_VALUE, 0.49999999999999994, 254.5, 255.5, 300, NaN];
    for (let k = 0; k < 256; k++)
      for (const d of [-1e-9, -2.3e-16, -1.2e-16, 0, 1.2e-16, 2.3e-16, 1e-9]) values.push(k + 0.5 + d, k + d);
    for (const v of values) expect(at(v), String(v)).toBe(Math.max(0, Math.min(255, Math.round(v))) || 0);
  });

  it('normalises each channel with a mean and std, and writes NCHW planes (PyTorch / ONNX models)', async () => {
    const pixels = await decodeImageFile(join(FIXTURES, 'parrot.jpg'), spec);
    const plain = { ...spec, range: [0, 1] as [number, number] };
    const normalize = { mean: [0.485, 0.456, 0.406] as const, std: [0.229, 0.224, 0.225] as const };
    const base = modelInput(pixels, plain);
    const nhwc = modelInput(pixels, { ...plain, normalize });
    const nchw = modelInput(pixels, { ...plain, normalize, layout: 'nchw' });
    const [h, w] = spec.inputSize;
    expect(inputShape({ inputSize: [h, w], layout: 'nchw' })).toEqual([1, 3, h, w]);
    let worst = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) {
          const i = (y * w + x) * 3 + c;
          const expected = (base[i]! - normalize.mean[c]!) / normalize.std[c]!;
          worst = Math.max(worst, Math.abs(nhwc[i]! - expected), Math.abs(nchw[c * h * w + y * w + x]! - expected));
        }
    expect(worst).toBeLessThan(1e-5);
  });

  it('reads mean, std and layout from metadata.json, and refuses a zero std', () => {
    const meta = {
      input: { shape: [1, 3, 224, 224], layout: 'NCHW', range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    };
    const parsed = parseModelSpec(meta);
    expect(parsed.layout).toBe('nchw');
    expect(parsed.inputSize).toEqual([224, 224]);
    expect(parsed.normalize).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    expect(spec.layout).toBe('nhwc');
    expect(() => parseModelSpec({ input: { ...meta.input, std: [1, 0, 1] } })).toThrow(/input.std/);
    expect(() => parseModelSpec({ input: { ...meta.input, shape: [1, 224, 224, 3] } })).toThrow(/NCHW/);
  });
});
