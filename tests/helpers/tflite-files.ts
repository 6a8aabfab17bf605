import { Builder, ByteBuffer } from 'flatbuffers';

/**
 * TFLite files for the importer's tests: a tiny classifier built here with the flatbuffers
 * runtime (schema field numbers as in tensorflow/lite/schema/schema.fbs), and the places in
 * any TFLite file where an offset or a length is stored, which the fuzz test sets to hostile
 * values.
 */

/** A 4-class classifier on 8 × 8 RGB images: CONV_2D → AVERAGE_POOL_2D → RESHAPE → SOFTMAX, float32. */
export function tinyTflite(): Uint8Array {
  const b = new Builder(4096);
  const ints = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (const x of [...xs].reverse()) b.addInt32(x);
    return b.endVector();
  };
  const floatBytes = (n: number, seed: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i) / 4).buffer);
  const buffer = (data?: Uint8Array) => {
    const vector = data ? b.createByteVector(data) : 0;
    b.startObject(1);
    if (data) b.addFieldOffset(0, vector, 0);
    return b.endObject();
  };
  const buffers = [buffer(), buffer(floatBytes(4 * 3 * 3 * 3, 1)), buffer(floatBytes(4, 2))];
  const tensor = (name: string, shape: number[], bufferIndex: number) => {
    const [n, s] = [b.createString(name), ints(shape)];
    b.startObject(5);
    b.addFieldOffset(0, s, 0);
    b.addFieldInt8(1, 0, -1); // float32
    b.addFieldInt32(2, bufferIndex, -1);
    b.addFieldOffset(3, n, 0);
    return b.endObject();
  };
  const tensors = [
    tensor('input', [1, 8, 8, 3], 0),
    tensor('conv/weights', [4, 3, 3, 3], 1),
    tensor('conv/bias', [4], 2),
    tensor('conv', [1, 8, 8, 4], 0),
    tensor('pool', [1, 1, 1, 4], 0),
    tensor('logits', [1, 4], 0),
    tensor('probabilities', [1, 4], 0),
  ];
  const code = (builtin: number) => {
    b.startObject(4);
    b.addFieldInt8(0, builtin, 0);
    b.addFieldInt32(3, builtin, 0);
    return b.endObject();
  };
  const codes = [3, 1, 22, 25].map(code); // CONV_2D, AVERAGE_POOL_2D, RESHAPE, SOFTMAX
  const options = (fields: [slot: number, kind: 'int' | 'byte' | 'float', value: number][]) => {
    b.startObject(8);
    for (const [slot, kind, value] of fields) {
      if (kind === 'int') b.addFieldInt32(slot, value, -1);
      else if (kind === 'byte') b.addFieldInt8(slot, value, -1);
      else b.addFieldFloat32(slot, value, -1);
    }
    return b.endObject();
  };
  const operator = (opcode: number, inputs: number[], outputs: number[], opts: number | null) => {
    const [i, o] = [ints(inputs), ints(outputs)];
    b.startObject(5);
    b.addFieldInt32(0, opcode, -1);
    b.addFieldOffset(1, i, 0);
    b.addFieldOffset(2, o, 0);
    if (opts !== null) b.addFieldOffset(4, opts, 0);
    return b.endObject();
  };
  const operators = [
    // Conv2DOptions: padding SAME, stride 1 × 1, no activation.
    operator(0, [0, 1, 2], [3], options([[0, 'byte', 0], [1, 'int', 1], [2, 'int', 1], [3, 'byte', 0]])),
    // Pool2DOptions: padding VALID, stride and filter 8 × 8.
    operator(1, [3], [4], options([[0, 'byte', 1], [1, 'int', 8], [2, 'int', 8], [3, 'int', 8], [4, 'int', 8], [5, 'byte', 0]])),
    operator(2, [4], [5], null),
    // SoftmaxOptions: beta 1.
    operator(3, [5], [6], options([[0, 'float', 1]])),
  ];
  const tables = (offsets: number[]) => {
    b.startVector(4, offsets.length, 4);
    for (const o of [...offsets].reverse()) b.addOffset(o);
    return b.endVector();
  };
  const [tensorVector, inputs, outputs, operatorVector] = [tables(tensors), ints([0]), ints([6]), tables(operators)];
  b.startObject(5);
  b.addFieldOffset(0, tensorVector, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldOffset(3, operatorVector, 0);
  const subgraph = b.endObject();
  const [codeVector, subgraphVector, bufferVector] = [tables(codes), tables([subgraph]), tables(buffers)];
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codeVector, 0);
  b.addFieldOffset(2, subgraphVector, 0);
  b.addFieldOffset(4, bufferVector, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

/** Where a TFLite file stores an offset (to a table or vector) or a vector's length, and what it is. */
export interface FieldPlace {
  pos: number;
  kind: 'offset' | 'length' | 'shape';
  where: string;
}

type Shape = Record<number, { name: string; kind: 'tables'; of: Shape } | { name: string; kind: 'table'; of: Shape } | { name: string; kind: 'scalars'; size: number; shape?: true }>;
const QUANTIZATION: Shape = { 2: { name: 'scale', kind: 'scalars', size: 4 }, 3: { name: 'zero_point', kind: 'scalars', size: 8 } };
const TENSOR: Shape = { 0: { name: 'shape', kind: 'scalars', size: 4, shape: true }, 3: { name: 'name', kind: 'scalars', size: 1 }, 4: { name: 'quantization', kind: 'table', of: QUANTIZATION } };
const OPERATOR: Shape = { 1: { name: 'inputs', kind: 'scalars', size: 4 }, 2: { name: 'outputs', kind: 'scalars', size: 4 } };
const SUBGRAPH: Shape = { 0: { name: 'tensors', kind: 'tables', of: TENSOR }, 1: { name: 'inputs', kind: 'scalars', size: 4 }, 2: { name: 'outputs', kind: 'scalars', size: 4 }, 3: { name: 'operators', kind: 'tables', of: OPERATOR } };
const MODEL: Shape = {
  1: { name: 'operator_codes', kind: 'tables', of: {} },
  2: { name: 'subgraphs', kind: 'tables', of: SUBGRAPH },
  4: { name: 'buffers', kind: 'tables', of: { 0: { name: 'data', kind: 'scalars', size: 1 } } },
};

/** Every offset and length field the reader follows in a valid TFLite file, and each shape entry. */
export function fieldPlaces(bytes: Uint8Array): FieldPlace[] {
  const bb = new ByteBuffer(bytes);
  const places: FieldPlace[] = [{ pos: 0, kind: 'offset', where: 'root' }];
  const walk = (table: number, shape: Shape, where: string) => {
    for (const [field, spec] of Object.entries(shape)) {
      const o = bb.__offset(table, 4 + 2 * Number(field));
      if (!o) continue;
      const at = table + o;
      const path = `${where}.${spec.name}`;
      places.push({ pos: at, kind: 'offset', where: path });
      if (spec.kind === 'table') {
        walk(bb.__indirect(at), spec.of, path);
        continue;
      }
      const start = bb.__vector(at);
      const length = bb.__vector_len(at);
      places.push({ pos: start - 4, kind: 'length', where: path });
      for (let i = 0; i < length; i++) {
        if (spec.kind === 'tables') {
          places.push({ pos: start + 4 * i, kind: 'offset', where: `${path}[${i}]` });
          walk(bb.__indirect(start + 4 * i), spec.of, `${path}[${i}]`);
        } else if (spec.shape) {
          places.push({ pos: start + spec.size * i, kind: 'shape', where: `${path}[${i}]` });
        }
      }
    }
  };
  walk(bb.readInt32(0), MODEL, 'model');
  return places;
}
