import type * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError } from '../src/core/errors';

/**
 * Pruned weights stored sparse in Glimpse's own model files. tfjs has no sparse weight format, and
 * a pruned tensor stored dense is as large as before (only gzip notices its zeros), so a weight
 * entry of model.json may say `sparse: { kept }`: it then occupies a bitmap of ceil(n / 8) bytes
 * (bit i of byte i >> 3, least significant first, set where element i is kept) followed by its
 * `kept` elements in the entry's stored dtype. The others are zero: 0 in float16 and float32, and
 * in uint8 / uint16 the code that dequantizes to 0 (Glimpse's quantizer keeps 0 exactly
 * representable). The shards are checked against the manifest as they are; the weights are made
 * dense for tfjs after that.
 */
export type WeightEntry = tf.io.WeightsManifestEntry & { sparse?: { kept: number } };

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes of one element as stored (its quantized dtype where it has one); undefined for a dtype tfjs does not store. */
export function storedElementBytes(entry: WeightEntry): number | undefined {
  const stored = entry.quantization?.dtype ?? entry.dtype;
  return typeof stored === 'string' && Object.hasOwn(BYTES_PER_ELEMENT, stored) ? BYTES_PER_ELEMENT[stored] : undefined;
}

/** What a sparse tensor of `count` elements, `kept` of them stored, occupies. */
export const sparseByteLength = (count: number, kept: number, elementBytes: number): number =>
  Math.ceil(count / 8) + kept * elementBytes;

/** The stored bytes of a zero element. */
function zeroOf(entry: WeightEntry, elementBytes: number): Uint8Array {
  const zero = new Uint8Array(elementBytes);
  const q = entry.quantization;
  if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
    const [scale, min] = [q.scale ?? 1, q.min ?? 0];
    const code = Math.round(-min / scale);
    if (!(code >= 0 && code < 2 ** (8 * elementBytes) && code * scale + min === 0))
      throw new ModelFormatError(`weight ${entry.name}: stored sparse, but its quantization has no exact 0`);
    if (elementBytes === 1) zero[0] = code;
    else new DataView(zero.buffer).setUint16(0, code, true);
  }
  return zero;
}

const isZero = (bytes: Uint8Array, at: number, zero: Uint8Array) => zero.every((b, j) => bytes[at + j] === b);

/**
 * A dense tensor's stored bytes as a bitmap and its non-zero elements, or null where that would
 * not be smaller (under 1 / (8 × element bytes) of it zero).
 */
export function encodeSparse(entry: WeightEntry, dense: Uint8Array): { bytes: Uint8Array; kept: number } | null {
  const size = storedElementBytes(entry)!;
  const count = dense.byteLength / size;
  const zero = zeroOf(entry, size);
  let kept = 0;
  for (let i = 0; i < count; i++) if (!isZero(dense, i * size, zero)) kept++;
  const length = sparseByteLength(count, kept, size);
  if (length >= dense.byteLength) return null;
  const bytes = new Uint8Array(length);
  const bitmap = Math.ceil(count / 8);
  for (let i = 0, at = bitmap; i < count; i++) {
    if (isZero(dense, i * size, zero)) continue;
    bytes[i >> 3]! |= 1 << (i & 7);
    bytes.set(dense.subarray(i * size, (i + 1) * size), at);
    at += size;
  }
  return { bytes, kept };
}

/** A sparse tensor's stored bytes back in tfjs's dense layout; refused where the bitmap does not match `kept`. */
export function decodeSparse(entry: WeightEntry, stored: Uint8Array): Uint8Array {
  const size = storedElementBytes(entry)!;
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const kept = entry.sparse!.kept;
  const bitmap = Math.ceil(count / 8);
  let set = 0;
  for (let i = 0; i < bitmap; i++) for (let byte = stored[i]!; byte; byte &= byte - 1) set++;
  const stray = count % 8 !== 0 && stored[bitmap - 1]! >> (count % 8) !== 0;
  if (set !== kept || stray)
    throw new ModelFormatError(`weight ${entry.name}: its bitmap keeps ${set} elements, model.json says ${kept}`);
  const zero = zeroOf(entry, size);
  const dense = new Uint8Array(count * size);
  for (let i = 0, at = bitmap; i < count; i++) {
    if (stored[i >> 3]! & (1 << (i & 7))) {
      dense.set(stored.subarray(at, at + size), i * size);
      at += size;
    } else dense.set(zero, i * size);
  }
  return dense;
}

/** A weight group's entries and data with every sparse entry made dense, as tfjs reads them; unchanged where none is sparse. */
export function densify(
  entries: readonly WeightEntry[],
  data: ArrayBuffer,
): { entries: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  if (!entries.some((e) => e.sparse)) return { entries: [...entries], data };
  const parts: Uint8Array[] = [];
  let offset = 0;
  const dense = entries.map(({ sparse, ...entry }) => {
    const size = storedElementBytes(entry)!;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const length = sparse ? sparseByteLength(count, sparse.kept, size) : count * size;
    const stored = new Uint8Array(data, offset, length);
    parts.push(sparse ? decodeSparse({ ...entry, sparse }, stored) : stored);
    offset += length;
    return entry;
  });
  return { entries: dense, data: concatenated(parts).buffer };
}

/** Byte arrays one after another, in one new buffer. */
export function concatenated(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.byteLength), 0);
  return out;
}
