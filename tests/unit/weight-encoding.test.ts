import { describe, expect, it } from 'vitest';
import {
  dequantize,
  FLOAT16_MAX,
  fitsFloat16,
  quantize,
  quantizeAffine,
  type StoredDtype,
} from '../../src/core/weight-encoding';

/** Relative RMS error of storing `values` as `dtype` and reading them back. */
function relativeError(values: Float32Array, dtype: StoredDtype): number {
  const back = dequantize(quantize(values, dtype), values.length);
  let err = 0;
  let norm = 0;
  for (let i = 0; i < values.length; i++) {
    err += (values[i]! - back[i]!) ** 2;
    norm += values[i]! ** 2;
  }
  return norm === 0 ? 0 : Math.sqrt(err / norm);
}

function seeded(n: number, lo: number, hi: number): Float32Array {
  let x = 12345;
  return Float32Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return lo + ((hi - lo) * x) / 2 ** 31;
  });
}

describe('affine quantization (tfjs format)', () => {
  it.each([
    ['uint8', 255],
    ['uint16', 65535],
  ] as const)('%s round-trips within half a step', (dtype, qmax) => {
    const values = seeded(10_000, -3, 5);
    const q = quantizeAffine(values, dtype);
    const back = dequantize(q, values.length);
    const step = 8 / qmax;
    for (let i = 0; i < values.length; i++)
      expect(Math.abs(back[i]! - values[i]!)).toBeLessThanOrEqual(step * 0.51 + 1e-6);
    expect(q.bytes.byteLength).toBe(values.length * (dtype === 'uint8' ? 1 : 2));
  });

  it('represents zero exactly whenever the range spans it', () => {
    for (const [lo, hi] of [
      [-3, 5],
      [-0.001, 7],
      [-9, 0.5],
    ] as const) {
      const values = new Float32Array([...seeded(999, lo, hi), 0]);
      expect(dequantize(quantizeAffine(values, 'uint8'), values.length)[999]).toBe(0);
    }
  });

  it('handles constant and all-positive tensors', () => {
    const constant = new Float32Array(10).fill(2.5);
    expect(Array.from(dequantize(quantizeAffine(constant, 'uint8'), 10))).toEqual(Array(10).fill(2.5));
    const positive = seeded(100, 1, 2);
    expect(relativeError(positive, 'uint8')).toBeLessThan(0.01);
  });
});

describe('float16', () => {
  it('round-trips with half-precision error', () => {
    const values = seeded(1000, -100, 100);
    expect(relativeError(values, 'float16')).toBeLessThan(1e-3);
    expect(dequantize(quantize(new Float32Array([0, -0.5, 1]), 'float16'), 3)).toEqual(new Float32Array([0, -0.5, 1]));
  });

  it('refuses values beyond ±65504 instead of turning them into infinity', () => {
    const big = new Float32Array([1, FLOAT16_MAX * 2]);
    expect(fitsFloat16(big)).toBe(false);
    expect(() => quantize(big, 'float16')).toThrow(/do not fit float16/);
    expect(fitsFloat16(new Float32Array([FLOAT16_MAX, -FLOAT16_MAX]))).toBe(true);
  });
});
