import { Builder, ByteBuffer } from 'flatbuffers';
import { zipSync } from 'fflate';

/**
 * TFLite files for the importer's tests: a tiny classifier built here with the flatbuffers
 * runtime (schema field numbers as in tensorflow/lite/schema/schema.fbs), and the places in
 * any TFLite file where an offset or a length is stored, which the fuzz test sets to hostile
 * values.
 */

export interface TinyTfliteOptions {
  /** TFLite Metadata to keep in the model (its TFLITE_METADATA buffer). */
  metadata?: Uint8Array;
  /** Input channels: 3 (RGB) or 1 (grey). */
  channels?: 1 | 3;
  /** A FULLY_CONNECTED head on a pooling of this depth instead of RESHAPE (as MobileNet V2 exports end). */
  fullyConnected?: number;
}

/**
 * A 4-class classifier on 8 × 8 RGB (or grey) images: CONV_2D → AVERAGE_POOL_2D → RESHAPE (or
 * FULLY_CONNECTED) → SOFTMAX, float32; with TFLite Metadata when given.
 */
export function tinyTflite({ metadata, channels = 3, fullyConnected }: TinyTfliteOptions = {}): Uint8Array {
  const depth = fullyConnected ?? 4;
  const b = new Builder(4096);
  const ints = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (const x of [...xs].reverse()) b.addInt32(x);
    return b.endVector();
  };
  const floatBytes = (n: number, seed: number) =>
    new Uint8Array(Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i) / 4).buffer);
  const buffer = (data?: Uint8Array) => {
    const vector = data ? b.createByteVector(data) : 0;
    b.startObject(1);
    if (data) b.addFieldOffset(0, vector, 0);
    return b.endObject();
  };
  const head = fullyConnected ? [buffer(floatBytes(4 * depth, 3)), buffer(floatBytes(4, 4))] : [];
  const buffers = [
    buffer(),
    buffer(floatBytes(depth * 3 * 3 * channels, 1)),
    buffer(floatBytes(depth, 2)),
    ...head,
    ...(metadata ? [buffer(metadata)] : []),
  ];
  const metadataBuffer = 3 + head.length;
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
    tensor('input', [1, 8, 8, channels], 0),
    tensor('conv/weights', [depth, 3, 3, channels], 1),
    tensor('conv/bias', [depth], 2),
    tensor('conv', [1, 8, 8, depth], 0),
    tensor('pool', [1, 1, 1, depth], 0),
    tensor('logits', [1, 4], 0),
    tensor('probabilities', [1, 4], 0),
    ...(fullyConnected ? [tensor('fc/weights', [4, depth], 3), tensor('fc/bias', [4], 4)] : []),
  ];
  const code = (builtin: number) => {
    b.startObject(4);
    b.addFieldInt8(0, builtin, 0);
    b.addFieldInt32(3, builtin, 0);
    return b.endObject();
  };
  const codes = [3, 1, fullyConnected ? 9 : 22, 25].map(code); // CONV_2D, AVERAGE_POOL_2D, RESHAPE or FULLY_CONNECTED, SOFTMAX
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
    operator(
      0,
      [0, 1, 2],
      [3],
      options([
        [0, 'byte', 0],
        [1, 'int', 1],
        [2, 'int', 1],
        [3, 'byte', 0],
      ]),
    ),
    // Pool2DOptions: padding VALID, stride and filter 8 × 8.
    operator(
      1,
      [3],
      [4],
      options([
        [0, 'byte', 1],
        [1, 'int', 8],
        [2, 'int', 8],
        [3, 'int', 8],
        [4, 'int', 8],
        [5, 'byte', 0],
      ]),
    ),
    fullyConnected ? operator(2, [4, 7, 8], [5], null) : operator(2, [4], [5], null),
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
  let metadataVector = 0;
  if (metadata) {
    const name = b.createString('TFLITE_METADATA');
    b.startObject(2);
    b.addFieldOffset(0, name, 0);
    b.addFieldInt32(1, metadataBuffer, 0);
    metadataVector = tables([b.endObject()]);
  }
  b.startObject(8);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codeVector, 0);
  b.addFieldOffset(2, subgraphVector, 0);
  b.addFieldOffset(4, bufferVector, 0);
  if (metadata) b.addFieldOffset(6, metadataVector, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

/** Where a TFLite file stores an offset (to a table or vector) or a vector's length, and what it is. */
export interface FieldPlace {
  pos: number;
  kind: 'offset' | 'length' | 'shape';
  where: string;
}

type Shape = Record<
  number,
  | { name: string; kind: 'tables'; of: Shape }
  | { name: string; kind: 'table'; of: Shape }
  | { name: string; kind: 'scalars'; size: number; shape?: true }
>;
const QUANTIZATION: Shape = {
  2: { name: 'scale', kind: 'scalars', size: 4 },
  3: { name: 'zero_point', kind: 'scalars', size: 8 },
};
const TENSOR: Shape = {
  0: { name: 'shape', kind: 'scalars', size: 4, shape: true },
  3: { name: 'name', kind: 'scalars', size: 1 },
  4: { name: 'quantization', kind: 'table', of: QUANTIZATION },
};
const OPERATOR: Shape = {
  1: { name: 'inputs', kind: 'scalars', size: 4 },
  2: { name: 'outputs', kind: 'scalars', size: 4 },
};
const SUBGRAPH: Shape = {
  0: { name: 'tensors', kind: 'tables', of: TENSOR },
  1: { name: 'inputs', kind: 'scalars', size: 4 },
  2: { name: 'outputs', kind: 'scalars', size: 4 },
  3: { name: 'operators', kind: 'tables', of: OPERATOR },
};
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

export interface MetadataFields {
  name?: string;
  description?: string;
  version?: string;
  author?: string;
  license?: string;
  /** The output's label files (TENSOR_AXIS_LABELS), each with its locale. */
  labelFiles?: { name: string; locale?: string }[];
  mean?: number[];
  std?: number[];
  /** The input's Stats: [min, max]. */
  valueRange?: [number, number];
  grayscale?: boolean;
}

/** A TFLite Metadata flatbuffer (metadata_schema.fbs, identifier M001) with the fields given. */
export function tfliteMetadata(fields: MetadataFields): Uint8Array {
  const b = new Builder(1024);
  const text = (value: string | undefined) => (value === undefined ? 0 : b.createString(value));
  const tables = (offsets: number[]) => {
    b.startVector(4, offsets.length, 4);
    for (const o of [...offsets].reverse()) b.addOffset(o);
    return b.endVector();
  };
  const floats = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (const x of [...xs].reverse()) b.addFloat32(x);
    return b.endVector();
  };
  const files = (fields.labelFiles ?? []).map((f) => {
    const [name, locale] = [text(f.name), text(f.locale)];
    b.startObject(5);
    b.addFieldOffset(0, name, 0);
    b.addFieldInt8(2, 2, 0); // TENSOR_AXIS_LABELS
    if (locale) b.addFieldOffset(3, locale, 0);
    return b.endObject();
  });
  const fileVector = tables(files);
  b.startObject(7);
  b.addFieldOffset(6, fileVector, 0);
  const output = b.endObject();

  b.startObject(2);
  b.addFieldInt8(0, fields.grayscale ? 2 : 1, 0);
  const image = b.endObject();
  b.startObject(3);
  b.addFieldInt8(0, 2, 0); // ImageProperties
  b.addFieldOffset(1, image, 0);
  const content = b.endObject();
  let units = 0;
  if (fields.mean && fields.std) {
    const [mean, std] = [floats(fields.mean), floats(fields.std)];
    b.startObject(2);
    b.addFieldOffset(0, mean, 0);
    b.addFieldOffset(1, std, 0);
    const normalization = b.endObject();
    b.startObject(2);
    b.addFieldInt8(0, 1, 0); // NormalizationOptions
    b.addFieldOffset(1, normalization, 0);
    units = tables([b.endObject()]);
  }
  let stats = 0;
  if (fields.valueRange) {
    const [max, min] = [floats([fields.valueRange[1]]), floats([fields.valueRange[0]])];
    b.startObject(2);
    b.addFieldOffset(0, max, 0);
    b.addFieldOffset(1, min, 0);
    stats = b.endObject();
  }
  b.startObject(7);
  b.addFieldOffset(3, content, 0);
  if (units) b.addFieldOffset(4, units, 0);
  if (stats) b.addFieldOffset(5, stats, 0);
  const input = b.endObject();

  const [inputs, outputs] = [tables([input]), tables([output])];
  b.startObject(10);
  b.addFieldOffset(2, inputs, 0);
  b.addFieldOffset(3, outputs, 0);
  const graph = tables([b.endObject()]);
  const [name, description, version, author, license] = [
    text(fields.name),
    text(fields.description),
    text(fields.version),
    text(fields.author),
    text(fields.license),
  ];
  b.startObject(8);
  if (name) b.addFieldOffset(0, name, 0);
  if (description) b.addFieldOffset(1, description, 0);
  if (version) b.addFieldOffset(2, version, 0);
  b.addFieldOffset(3, graph, 0);
  if (author) b.addFieldOffset(4, author, 0);
  if (license) b.addFieldOffset(5, license, 0);
  b.finish(b.endObject(), 'M001');
  return b.asUint8Array().slice();
}

/** A .tflite with files packed after it as a .zip, as TFLite Metadata's writer packs associated files. */
export function withPackedFiles(tflite: Uint8Array, files: Record<string, string>): Uint8Array {
  const zip = zipSync(
    Object.fromEntries(Object.entries(files).map(([name, text]) => [name, new TextEncoder().encode(text)])),
  );
  const out = new Uint8Array(tflite.length + zip.length);
  out.set(tflite);
  out.set(zip, tflite.length);
  return out;
}
