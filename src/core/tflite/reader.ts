import { ByteBuffer } from 'flatbuffers';

/**
 * A reader for the parts of the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs)
 * that image classifiers use, on the maintained `flatbuffers` runtime. Field numbers
 * below are the schema's.
 */

class Table {
  constructor(
    private readonly bb: ByteBuffer,
    private readonly pos: number,
  ) {}
  private at(field: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * field);
  }
  int(field: number, fallback = 0): number {
    const o = this.at(field);
    return o ? this.bb.readInt32(this.pos + o) : fallback;
  }
  uint(field: number, fallback = 0): number {
    const o = this.at(field);
    return o ? this.bb.readUint32(this.pos + o) : fallback;
  }
  byte(field: number, fallback = 0): number {
    const o = this.at(field);
    return o ? this.bb.readInt8(this.pos + o) : fallback;
  }
  float(field: number, fallback = 0): number {
    const o = this.at(field);
    return o ? this.bb.readFloat32(this.pos + o) : fallback;
  }
  string(field: number): string {
    const o = this.at(field);
    return o ? (this.bb.__string(this.pos + o) as string) : '';
  }
  table(field: number): Table | null {
    const o = this.at(field);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : null;
  }
  private vector(field: number): { start: number; length: number } {
    const o = this.at(field);
    return o ? { start: this.bb.__vector(this.pos + o), length: this.bb.__vector_len(this.pos + o) } : { start: 0, length: 0 };
  }
  tables(field: number): Table[] {
    const { start, length } = this.vector(field);
    return Array.from({ length }, (_, i) => new Table(this.bb, this.bb.__indirect(start + 4 * i)));
  }
  ints(field: number): number[] {
    const { start, length } = this.vector(field);
    return Array.from({ length }, (_, i) => this.bb.readInt32(start + 4 * i));
  }
  floats(field: number): number[] {
    const { start, length } = this.vector(field);
    return Array.from({ length }, (_, i) => this.bb.readFloat32(start + 4 * i));
  }
  longs(field: number): number[] {
    const { start, length } = this.vector(field);
    return Array.from({ length }, (_, i) => Number(this.bb.readInt64(start + 8 * i)));
  }
  bytes(field: number): Uint8Array {
    const { start, length } = this.vector(field);
    return this.bb.bytes().subarray(start, start + length);
  }
}

export type Options = Table;

/** BuiltinOperator codes of the ops this reader names; others are reported by number. */
export const BUILTIN_OPS: Record<number, string> = {
  0: 'ADD', 1: 'AVERAGE_POOL_2D', 2: 'CONCATENATION', 3: 'CONV_2D', 4: 'DEPTHWISE_CONV_2D', 6: 'DEQUANTIZE', 9: 'FULLY_CONNECTED',
  14: 'LOGISTIC', 17: 'MAX_POOL_2D', 18: 'MUL', 19: 'RELU', 21: 'RELU6', 22: 'RESHAPE', 23: 'RESIZE_BILINEAR', 25: 'SOFTMAX',
  28: 'TANH', 34: 'PAD', 40: 'MEAN', 43: 'SQUEEZE', 114: 'QUANTIZE', 126: 'HARD_SWISH',
};

export const TENSOR_TYPES = ['float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16', 'complex64', 'int8'] as const;
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
}

export function readTflite(bytes: Uint8Array): TfliteModel {
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3') throw new Error('not a TFLite flatbuffer (no TFL3 identifier)');
  const bb = new ByteBuffer(bytes);
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());
  // The int8 code field caps at 127; newer files put larger codes in the int32 field.
  const codes = model.tables(1).map((c) => Math.max(c.byte(0), c.int(3)));
  const buffers = model.tables(4).map((b) => b.bytes(0));
  const subgraphs = model.tables(2);
  if (subgraphs.length !== 1) throw new Error(`expected one subgraph, found ${subgraphs.length}`);
  const graph = subgraphs[0]!;
  const tensors = graph.tables(0).map((t, index): TfliteTensor => {
    const q = t.table(4);
    const type = TENSOR_TYPES[t.byte(1)];
    if (!type) throw new Error(`tensor ${t.string(3)}: unknown type ${t.byte(1)}`);
    return {
      index,
      name: t.string(3),
      shape: t.ints(0),
      type,
      data: buffers[t.uint(2)] ?? new Uint8Array(0),
      scale: q?.floats(2) ?? [],
      zeroPoint: q?.longs(3) ?? [],
      quantizedDimension: q?.int(6) ?? 0,
    };
  });
  const operators = graph.tables(3).map((o) => {
    const code = codes[o.uint(0)]!;
    return { op: BUILTIN_OPS[code] ?? `BUILTIN_${code}`, inputs: o.ints(1), outputs: o.ints(2), options: o.table(4) };
  });
  return { tensors, operators, inputs: graph.ints(1), outputs: graph.ints(2) };
}
