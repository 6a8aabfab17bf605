import { ByteBuffer } from 'flatbuffers';
import { ModelFormatError } from '../errors';

/**
 * A reader for the parts of the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs)
 * that image classifiers use, on the maintained `flatbuffers` runtime. Field numbers
 * below are the schema's.
 */

/** Caps on what a classifier's flatbuffer holds, far above any real one, checked before anything is allocated. */
export const TFLITE_LIMITS = {
  /** Tensors, operators, buffers and operator codes, each. */
  maxCount: 100_000,
  maxRank: 8,
  /** Elements of one tensor (a 4096 × 4096 × 4 activation). */
  maxElements: 1 << 26,
} as const;

/** A refusal naming the field (a path from the model's root) and what is wrong with it. */
function bad(where: string, why: string): never {
  throw new ModelFormatError(`${where}: ${why}`);
}

/** The flatbuffer's bytes, with every position checked to lie inside them before it is read. */
class Bytes {
  readonly bb: ByteBuffer;
  readonly size: number;
  constructor(bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.byteLength;
  }
  /** Checks that `length` bytes at `pos` are in the file. */
  check(pos: number, length: number, where: string): number {
    if (!Number.isSafeInteger(pos) || pos < 0 || length < 0 || pos + length > this.size)
      bad(where, `points past the end of the file (byte ${pos} + ${length} of ${this.size})`);
    return pos;
  }
  /** The position a uoffset at `pos` points to. */
  follow(pos: number, where: string): number {
    return this.bb.readUint32(this.check(pos, 4, where)) + pos;
  }
}

const ELEMENT_BYTES = { table: 4, int: 4, float: 4, long: 8, byte: 1 } as const;

export class Table {
  private readonly vtable: number;
  private readonly vtableLength: number;

  constructor(
    private readonly file: Bytes,
    private readonly pos: number,
    readonly where: string,
  ) {
    file.check(pos, 4, where);
    this.vtable = file.check(pos - file.bb.readInt32(pos), 4, `${where} (its vtable)`);
    this.vtableLength = file.bb.readUint16(this.vtable);
    file.check(this.vtable, this.vtableLength, `${where} (its vtable)`);
  }

  /** The field's position, checked to hold `size` bytes; 0 when the field is absent. */
  private at(field: number, size: number): number {
    const slot = 4 + 2 * field;
    const offset = slot + 2 <= this.vtableLength ? this.file.bb.readUint16(this.vtable + slot) : 0;
    return offset ? this.file.check(this.pos + offset, size, `${this.where}.${field}`) : 0;
  }
  int(field: number, fallback = 0): number {
    const o = this.at(field, 4);
    return o ? this.file.bb.readInt32(o) : fallback;
  }
  uint(field: number, fallback = 0): number {
    const o = this.at(field, 4);
    return o ? this.file.bb.readUint32(o) : fallback;
  }
  byte(field: number, fallback = 0): number {
    const o = this.at(field, 1);
    return o ? this.file.bb.readInt8(o) : fallback;
  }
  float(field: number, fallback = 0): number {
    const o = this.at(field, 4);
    return o ? this.file.bb.readFloat32(o) : fallback;
  }
  string(field: number): string {
    return new TextDecoder().decode(this.bytes(field));
  }
  table(field: number): Table | null {
    const o = this.at(field, 4);
    return o ? new Table(this.file, this.file.follow(o, `${this.where}.${field}`), `${this.where}.${field}`) : null;
  }
  /** A vector's first element and length, its length checked against the bytes after it. */
  private vector(field: number, kind: keyof typeof ELEMENT_BYTES, name: string): { start: number; length: number } {
    const o = this.at(field, 4);
    if (!o) return { start: 0, length: 0 };
    const where = `${this.where}.${name}`;
    const header = this.file.follow(o, where);
    const length = this.file.bb.readUint32(this.file.check(header, 4, where));
    const room = Math.floor((this.file.size - header - 4) / ELEMENT_BYTES[kind]);
    if (length > room) bad(where, `claims ${length} entries, but the file has room for ${room}`);
    if (kind !== 'byte' && length > TFLITE_LIMITS.maxCount)
      bad(where, `has ${length} entries, over ${TFLITE_LIMITS.maxCount}`);
    return { start: header + 4, length };
  }
  tables(field: number, name: string): Table[] {
    const { start, length } = this.vector(field, 'table', name);
    return Array.from({ length }, (_, i) => {
      const where = `${this.where}.${name}[${i}]`;
      return new Table(this.file, this.file.follow(start + 4 * i, where), where);
    });
  }
  ints(field: number, name: string): number[] {
    const { start, length } = this.vector(field, 'int', name);
    return Array.from({ length }, (_, i) => this.file.bb.readInt32(start + 4 * i));
  }
  floats(field: number, name: string): number[] {
    const { start, length } = this.vector(field, 'float', name);
    return Array.from({ length }, (_, i) => this.file.bb.readFloat32(start + 4 * i));
  }
  longs(field: number, name: string): number[] {
    const { start, length } = this.vector(field, 'long', name);
    return Array.from({ length }, (_, i) => Number(this.file.bb.readInt64(start + 8 * i)));
  }
  bytes(field: number, name = String(field)): Uint8Array {
    const { start, length } = this.vector(field, 'byte', name);
    return this.file.bb.bytes().subarray(start, start + length);
  }
}

export type Options = Table;

/** BuiltinOperator codes of the ops this reader names; others are reported by number. */
export const BUILTIN_OPS: Record<number, string> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED',
  14: 'LOGISTIC',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  21: 'RELU6',
  22: 'RESHAPE',
  23: 'RESIZE_BILINEAR',
  25: 'SOFTMAX',
  28: 'TANH',
  34: 'PAD',
  40: 'MEAN',
  43: 'SQUEEZE',
  114: 'QUANTIZE',
  126: 'HARD_SWISH',
};

export const TENSOR_TYPES = [
  'float32',
  'float16',
  'int32',
  'uint8',
  'int64',
  'string',
  'bool',
  'int16',
  'complex64',
  'int8',
] as const;
export type TensorType = (typeof TENSOR_TYPES)[number];

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: TensorType;
  /** The constant's bytes; empty for activations. */
  data: Uint8Array;
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteOperator {
  /** Its place in the graph, for errors that name it. */
  index: number;
  op: string;
  inputs: number[];
  outputs: number[];
  options: Options | null;
}

export interface TfliteModel {
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
  /** The TFLite Metadata flatbuffer (the model's `TFLITE_METADATA` entry), when the file has one. */
  metadata?: Uint8Array;
}

/** The root table of a flatbuffer with the given 4-character identifier, every read of it checked as readTflite's are. */
export function flatbufferRoot(bytes: Uint8Array, identifier: string, where: string): Table {
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(4, 8)) !== identifier)
    throw new ModelFormatError(`${where}: not a flatbuffer with the identifier ${identifier}`);
  const file = new Bytes(bytes);
  return new Table(file, file.follow(0, where), where);
}

/** Bytes per element of the types a constant can hold; others (string) are not checked. */
const TYPE_BYTES: Partial<Record<TensorType, number>> = {
  float32: 4,
  float16: 2,
  int32: 4,
  uint8: 1,
  int64: 8,
  bool: 1,
  int16: 2,
  complex64: 8,
  int8: 1,
};

/** A tensor's shape: a few dimensions, none negative, and not too many elements in all. */
function checkedShape(shape: number[], where: string): number[] {
  if (shape.length > TFLITE_LIMITS.maxRank) bad(where, `has ${shape.length} dimensions, over ${TFLITE_LIMITS.maxRank}`);
  if (shape.some((d) => d < 0)) bad(where, `has a negative dimension (${JSON.stringify(shape)})`);
  if (shape.reduce((a, b) => a * b, 1) > TFLITE_LIMITS.maxElements)
    bad(where, `${JSON.stringify(shape)} is over ${TFLITE_LIMITS.maxElements} elements`);
  return shape;
}

/** Tensor indices that must name a tensor (-1, "none", only where `optional`). */
function checkedIndices(indices: number[], tensors: number, where: string, optional = false): number[] {
  const wrong = indices.find((i) => !(i < tensors && (i >= 0 || (optional && i === -1))));
  if (wrong !== undefined) bad(where, `names tensor ${wrong}, but there are ${tensors}`);
  return indices;
}

/**
 * Reads a .tflite file. Every offset, length and count is checked against the bytes present
 * and against TFLITE_LIMITS before it is followed or allocated, and every index against what
 * it indexes: a damaged or crafted file gets a ModelFormatError naming the field.
 */
export function readTflite(bytes: Uint8Array): TfliteModel {
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3')
    throw new ModelFormatError('not a TFLite flatbuffer (no TFL3 identifier)');
  const file = new Bytes(bytes);
  const model = new Table(file, file.follow(0, 'root'), 'model');
  // The int8 code field caps at 127; newer files put larger codes in the int32 field.
  const codes = model.tables(1, 'operator_codes').map((c) => Math.max(c.byte(0), c.int(3)));
  const buffers = model.tables(4, 'buffers');
  const subgraphs = model.tables(2, 'subgraphs');
  if (subgraphs.length !== 1) throw new ModelFormatError(`expected one subgraph, found ${subgraphs.length}`);
  const graph = subgraphs[0]!;
  const tensors = graph.tables(0, 'tensors').map((t, index): TfliteTensor => {
    const where = t.where;
    const type = TENSOR_TYPES[t.byte(1)];
    if (!type) bad(`${where}.type`, `unknown type ${t.byte(1)}`);
    const shape = checkedShape(t.ints(0, 'shape'), `${where}.shape`);
    const bufferIndex = t.uint(2);
    if (bufferIndex >= buffers.length)
      bad(`${where}.buffer`, `is ${bufferIndex}, but there are ${buffers.length} buffers`);
    const data = buffers[bufferIndex]?.bytes(0, 'data') ?? new Uint8Array(0);
    const elementBytes = TYPE_BYTES[type];
    const needed = shape.reduce((a, b) => a * b, 1) * (elementBytes ?? 0);
    if (data.byteLength > 0 && elementBytes !== undefined && data.byteLength !== needed) {
      bad(
        `${where}.buffer`,
        `buffer ${bufferIndex} holds ${data.byteLength} bytes, but a ${type} tensor of shape ${JSON.stringify(shape)} needs ${needed}`,
      );
    }
    const q = t.table(4);
    const quantizedDimension = q?.int(6) ?? 0;
    if (quantizedDimension < 0 || (shape.length > 0 && quantizedDimension >= shape.length))
      bad(
        `${where}.quantization`,
        `quantized dimension ${quantizedDimension} is not an axis of ${JSON.stringify(shape)}`,
      );
    return {
      index,
      name: t.string(3),
      shape,
      type,
      data,
      scale: q?.floats(2, 'scale') ?? [],
      zeroPoint: q?.longs(3, 'zero_point') ?? [],
      quantizedDimension,
    };
  });
  const operators = graph.tables(3, 'operators').map((o, index) => {
    const codeIndex = o.uint(0);
    const code = codes[codeIndex];
    if (code === undefined)
      bad(`${o.where}.opcode_index`, `is ${codeIndex}, but there are ${codes.length} operator codes`);
    return {
      index,
      op: BUILTIN_OPS[code] ?? `BUILTIN_${code}`,
      inputs: checkedIndices(o.ints(1, 'inputs'), tensors.length, `${o.where}.inputs`, true),
      outputs: checkedIndices(o.ints(2, 'outputs'), tensors.length, `${o.where}.outputs`),
      options: o.table(4),
    };
  });
  // Model.metadata (field 6): named buffers; TFLite Metadata is the one named TFLITE_METADATA.
  const metadataEntry = model.tables(6, 'metadata').find((m) => m.string(0) === 'TFLITE_METADATA');
  const metadataBuffer = metadataEntry ? metadataEntry.uint(1) : -1;
  if (metadataEntry && metadataBuffer >= buffers.length)
    bad(`${metadataEntry.where}.buffer`, `is ${metadataBuffer}, but there are ${buffers.length} buffers`);
  const metadata = metadataEntry ? buffers[metadataBuffer]!.bytes(0, 'data') : undefined;
  return {
    tensors,
    operators,
    inputs: checkedIndices(graph.ints(1, 'inputs'), tensors.length, `${graph.where}.inputs`),
    outputs: checkedIndices(graph.ints(2, 'outputs'), tensors.length, `${graph.where}.outputs`),
    ...(metadata && metadata.byteLength > 0 ? { metadata } : {}),
  };
}
