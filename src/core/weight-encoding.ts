import { setFloat16 } from '@petamoriken/float16';

/** The stored form of one weight tensor. */
export type StoredDtype = 'float32' | 'float16' | 'uint16' | 'uint8';

export interface Quantized {
  bytes: Uint8Array;
  /** The tfjs `quantization` entry; absent for float32. */
  quantization?: { dtype: 'uint8' | 'uint16'; scale: number; min: number } | { dtype: 'float16' };
}

export const FLOAT16_MAX = 65504;

/**
 * tfjs's affine quantization (the Python converter's algorithm): scale = (max - min) / qmax;
 * when min ≤ 0 ≤ max, min is nudged so that 0.0 is exactly representable; then
 * q = round((clip(x) - min) / scale). A constant tensor gets scale 1.
 */
export function quantizeAffine(values: Float32Array, dtype: 'uint8' | 'uint16'): Quantized {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) min = max = 0;
  let scale = (max - min) / qmax;
  if (scale === 0 || !Number.isFinite(scale)) scale = 1;
  if (min <= 0 && max >= 0) {
    const zeroPoint = Math.round(-min / scale);
    min = -zeroPoint * scale;
  }
  const top = min + scale * qmax;
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.round((Math.min(Math.max(values[i]!, min), top) - min) / scale);
  // Kept as doubles: tfjs reads them from JSON and dequantizes with q * scale + min in
  // double precision, which is what makes 0 come back exactly.
  return { bytes: new Uint8Array(q.buffer), quantization: { dtype, scale, min } };
}

/** Whether every value fits float16 (beyond ±65504 it would become infinity). */
export function fitsFloat16(values: Float32Array): boolean {
  return values.every((v) => Math.abs(v) <= FLOAT16_MAX);
}

export function toFloat16(values: Float32Array): Quantized {
  if (!fitsFloat16(values)) throw new RangeError(`values beyond ±${FLOAT16_MAX} do not fit float16`);
  const view = new DataView(new ArrayBuffer(values.length * 2));
  values.forEach((v, i) => setFloat16(view, i * 2, v, true));
  return { bytes: new Uint8Array(view.buffer), quantization: { dtype: 'float16' } };
}

export function quantize(values: Float32Array, dtype: StoredDtype): Quantized {
  if (dtype === 'float32') return { bytes: new Uint8Array(values.slice().buffer) };
  if (dtype === 'float16') return toFloat16(values);
  return quantizeAffine(values, dtype);
}

/** Values back from their stored form, as tfjs will read them. */
export function dequantize(q: Quantized, length: number): Float32Array {
  const out = new Float32Array(length);
  const view = new DataView(q.bytes.buffer, q.bytes.byteOffset, q.bytes.byteLength);
  if (!q.quantization) return new Float32Array(q.bytes.slice().buffer);
  if (q.quantization.dtype === 'float16') {
    for (let i = 0; i < length; i++) out[i] = getHalf(view, i * 2);
    return out;
  }
  const { scale, min, dtype } = q.quantization;
  for (let i = 0; i < length; i++)
    out[i] = (dtype === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true)) * scale + min;
  return out;
}

function getHalf(view: DataView, offset: number): number {
  const h = view.getUint16(offset, true);
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
