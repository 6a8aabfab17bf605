import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeModelManifest } from '../host/model-manifest';
import { quantize } from './quantization';
import { shardWeights } from './shards';
import { readTflite, type TfliteModel, type TfliteOperator, type TfliteTensor } from './tflite';

const HELP = `npm run convert -- --tflite <file.tflite> --out <dir> [--labels <labels.txt|labels.json>]
                     [--drop-background] [--crop 0.875] [--range -1,1] [--name <model name>]

Converts a TFLite image classifier to a tfjs graph model (model.json, shards under 4 MB,
labels.json, metadata.json, manifest.json), without Python.
Weights: per-tensor uint8 is copied byte for byte as tfjs uint8 (lossless); int8 (per-channel)
is dequantized and stored as float16; float32 stays float32. Activations run in float.

  --labels           one label per line, or a JSON array (default: class 0, class 1, …)
  --drop-background  remove class 0 (the "background" of 1001-way ImageNet models)
  --crop             central-crop fraction for metadata.json (default: squash the whole image)
  --range            input range for metadata.json; default from the input's quantization`;

export const SUPPORTED = ['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'MUL', 'AVERAGE_POOL_2D', 'MAX_POOL_2D', 'RESHAPE', 'SQUEEZE', 'SOFTMAX', 'MEAN', 'PAD', 'CONCATENATION', 'RELU', 'RELU6', 'LOGISTIC', 'TANH', 'QUANTIZE', 'DEQUANTIZE'];

type Attr = Record<string, unknown>;
interface Node {
  name: string;
  op: string;
  input?: string[];
  attr: Attr;
}
interface Weight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  bytes: Uint8Array;
  quantization?: { dtype: 'uint8'; scale: number; min: number } | { dtype: 'float16' };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ints = (xs: number[]) => ({ list: { i: xs.map(String) } });
const T = { T: { type: 'DT_FLOAT' } };
const ACTIVATIONS: Record<number, string | null> = { 0: null, 1: 'Relu', 3: 'Relu6', 4: 'Tanh' };

/** Values of a quantized or float constant as float32, in its own layout. */
function floatValues(t: TfliteTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (t.type === 'float32') return new Float32Array(t.data.slice().buffer, 0, n);
  const out = new Float32Array(n);
  const axis = t.quantizedDimension;
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = t.shape[axis] ?? 1;
  for (let i = 0; i < n; i++) {
    const c = t.scale.length > 1 ? Math.floor(i / inner) % channels : 0;
    const q = t.type === 'uint8' ? view.getUint8(i) : t.type === 'int8' ? view.getInt8(i) : view.getInt32(i * 4, true);
    out[i] = (q - (t.zeroPoint[c] ?? 0)) * (t.scale[c] ?? 1);
  }
  return out;
}

/** Reorders a row-major array from `shape` to the axis order `perm`, dropping index 0 of axis `drop` if asked. */
function permute<A extends Uint8Array | Float32Array>(data: A, shape: number[], perm: number[], drop?: number): { data: A; shape: number[] } {
  const kept = shape.map((d, axis) => (axis === drop ? d - 1 : d));
  const outShape = perm.map((p) => kept[p]!);
  const out = new (data.constructor as new (n: number) => A)(outShape.reduce((a, b) => a * b, 1));
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outStrides = outShape.map((_, i) => outShape.slice(i + 1).reduce((a, b) => a * b, 1));
  const index = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let rest = o;
    for (let i = 0; i < outShape.length; i++) {
      index[perm[i]!] = Math.floor(rest / outStrides[i]!);
      rest %= outStrides[i]!;
    }
    let src = 0;
    for (let a = 0; a < shape.length; a++) src += (index[a]! + (a === drop ? 1 : 0)) * inStrides[a]!;
    out[o] = data[src]!;
  }
  return { data: out, shape: outShape };
}

export interface ConvertOptions {
  labels?: string[];
  dropBackground?: boolean;
  crop?: number;
  range?: [number, number];
  name: string;
  source: string;
}

export function convert(model: TfliteModel, options: ConvertOptions): { modelJson: object; weights: Weight[]; metadata: object; labels: string[] } {
  const unsupported = [...new Set(model.operators.map((o) => o.op).filter((op) => !SUPPORTED.includes(op)))];
  if (unsupported.length) throw new Error(`unsupported TFLite ops: ${unsupported.join(', ')} (supported: ${SUPPORTED.join(', ')})`);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('expected one input and one output');
  const input = model.tensors[model.inputs[0]!]!;
  const output = model.tensors[model.outputs[0]!]!;
  const classes = output.shape.at(-1)!;
  const drop = options.dropBackground ? classes : -1;

  const nodes: Node[] = [];
  const weights: Weight[] = [];
  const used = new Set<string>();
  const names = new Map<number, string>();
  const unique = (raw: string) => {
    let name = raw.split(';')[0]!.replace(/[^\w/.-]/g, '_') || 'tensor';
    for (let i = 1; used.has(name); i++) name = `${raw.split(';')[0]}_${i}`;
    used.add(name);
    return name;
  };
  const nameOf = (i: number) => names.get(i) ?? (names.set(i, unique(model.tensors[i]!.name)), names.get(i)!);
  const addConst = (w: Weight) => {
    nodes.push({ name: w.name, op: 'Const', attr: { value: { tensor: { dtype: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: w.shape.map((d) => ({ size: String(d) })) } } }, dtype: { type: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } });
    weights.push(w);
    return w.name;
  };
  /** An int32 constant; `shape` defaults to a vector ([] makes a scalar, as ConcatV2's axis must be). */
  const intConst = (name: string, values: number[], shape = [values.length]) =>
    addConst({ name: unique(name), shape, dtype: 'int32', bytes: new Uint8Array(Int32Array.from(values).buffer) });
  const intData = (t: TfliteTensor) => Array.from(new Int32Array(t.data.slice().buffer));

  /** A kernel in tfjs layout: uint8 bytes copied losslessly, int8 as float16, float32 as is. */
  const kernel = (i: number, perm: number[], reshape?: number[], dropAxis?: number) => {
    const t = model.tensors[i]!;
    const dropped = dropAxis !== undefined && t.shape[dropAxis] === drop ? dropAxis : undefined;
    const name = unique(`${nameOf(i)}/weights`);
    if (t.type === 'uint8' && t.scale.length === 1) {
      const { data, shape } = permute(t.data, t.shape, perm, dropped);
      return addConst({ name, shape: reshape ?? shape, dtype: 'float32', bytes: data, quantization: { dtype: 'uint8', scale: t.scale[0]!, min: -t.scale[0]! * t.zeroPoint[0]! } });
    }
    const { data, shape } = permute(floatValues(t), t.shape, perm, dropped);
    const stored = t.type === 'float32' ? { bytes: new Uint8Array(data.buffer) } : quantize(data, 'float16');
    return addConst({ name, shape: reshape ?? shape, dtype: 'float32', bytes: stored.bytes, ...(stored.quantization ? { quantization: stored.quantization as Weight['quantization'] } : {}) });
  };
  const bias = (i: number | undefined, outChannels: number) => {
    if (i === undefined || i < 0) return addConst({ name: unique('bias'), shape: [outChannels], dtype: 'float32', bytes: new Uint8Array(new Float32Array(outChannels).buffer) });
    const t = model.tensors[i]!;
    let values = floatValues(t);
    if (t.shape[0] === drop) values = values.slice(1);
    return addConst({ name: unique(`${nameOf(i)}/bias`), shape: [values.length], dtype: 'float32', bytes: new Uint8Array(values.buffer) });
  };
  const fused = (activation: number) => {
    if (!(activation in ACTIVATIONS)) throw new Error(`unsupported fused activation ${activation}`);
    const act = ACTIVATIONS[activation];
    return { fused_ops: { list: { s: [b64('BiasAdd'), ...(act ? [b64(act)] : [])] } }, num_args: { i: '1' }, epsilon: { f: 0 } };
  };
  const withActivation = (node: Node, activation: number) => {
    const act = ACTIVATIONS[activation];
    if (act === undefined) throw new Error(`unsupported fused activation ${activation}`);
    if (!act) return nodes.push(node);
    const out = node.name;
    nodes.push({ ...node, name: unique(`${out}/pre_activation`) }, { name: out, op: act, input: [nodes.at(-1)!.name], attr: T });
    return nodes.length;
  };
  const padding = (o: TfliteOperator) => ({ s: b64(o.options?.byte(0) === 1 ? 'VALID' : 'SAME') });

  const [, height, width, channels] = input.shape;
  nodes.push({ name: nameOf(input.index), op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [-1, height, width, channels].map((d) => ({ size: String(d) })) } } } });

  for (const o of model.operators) {
    const out = o.outputs[0]!;
    const inName = (k: number) => nameOf(o.inputs[k]!);
    const opt = o.options;
    switch (o.op) {
      case 'QUANTIZE':
      case 'DEQUANTIZE':
        names.set(out, inName(0));
        break;
      case 'CONV_2D': {
        const w = model.tensors[o.inputs[1]!]!;
        const filter = kernel(o.inputs[1]!, [1, 2, 3, 0], undefined, 0);
        const b = bias(o.inputs[2], w.shape[0] === drop ? drop - 1 : w.shape[0]!);
        nodes.push({ name: nameOf(out), op: '_FusedConv2D', input: [inName(0), filter, b], attr: { ...T, data_format: { s: b64('NHWC') }, strides: ints([1, opt!.int(2, 1), opt!.int(1, 1), 1]), dilations: ints([1, opt!.int(5, 1), opt!.int(4, 1), 1]), padding: padding(o), explicit_paddings: { list: {} }, use_cudnn_on_gpu: { b: true }, ...fused(opt!.byte(3)) } });
        break;
      }
      case 'DEPTHWISE_CONV_2D': {
        const w = model.tensors[o.inputs[1]!]!;
        const multiplier = Math.max(1, opt!.int(3, 1));
        const [, h, wd, cm] = w.shape as [number, number, number, number];
        const filter = kernel(o.inputs[1]!, [0, 1, 2, 3], [h, wd, cm / multiplier, multiplier]);
        // [1, H, W, C*M] and [H, W, C, M] share one memory order: only the shape changes.
        const b = bias(o.inputs[2], cm);
        nodes.push({ name: nameOf(out), op: 'FusedDepthwiseConv2dNative', input: [inName(0), filter, b], attr: { ...T, data_format: { s: b64('NHWC') }, strides: ints([1, opt!.int(2, 1), opt!.int(1, 1), 1]), dilations: ints([1, opt!.int(6, 1), opt!.int(5, 1), 1]), padding: padding(o), explicit_paddings: { list: {} }, ...fused(opt!.byte(4)) } });
        break;
      }
      case 'FULLY_CONNECTED': {
        const w = model.tensors[o.inputs[1]!]!;
        const matrix = kernel(o.inputs[1]!, [0, 1], undefined, 0);
        const b = bias(o.inputs[2], w.shape[0] === drop ? drop - 1 : w.shape[0]!);
        nodes.push({ name: nameOf(out), op: '_FusedMatMul', input: [inName(0), matrix, b], attr: { ...T, transpose_a: { b: false }, transpose_b: { b: true }, ...fused(opt?.byte(0) ?? 0) } });
        break;
      }
      case 'ADD':
      case 'MUL':
        withActivation({ name: nameOf(out), op: o.op === 'ADD' ? 'AddV2' : 'Mul', input: [inName(0), inName(1)], attr: T }, opt?.byte(0) ?? 0);
        break;
      case 'AVERAGE_POOL_2D':
      case 'MAX_POOL_2D':
        withActivation(
          { name: nameOf(out), op: o.op === 'AVERAGE_POOL_2D' ? 'AvgPool' : 'MaxPool', input: [inName(0)], attr: { ...T, data_format: { s: b64('NHWC') }, ksize: ints([1, opt!.int(4), opt!.int(3), 1]), strides: ints([1, opt!.int(2), opt!.int(1), 1]), padding: padding(o) } },
          opt!.byte(5),
        );
        break;
      case 'RESHAPE': {
        const target = (model.tensors[out]!.shape.length ? model.tensors[out]!.shape : intData(model.tensors[o.inputs[1]!]!)).map((d, i) => (i === 0 ? -1 : d === drop ? d - 1 : d));
        nodes.push({ name: nameOf(out), op: 'Reshape', input: [inName(0), intConst(`${nameOf(out)}/shape`, target)], attr: { ...T, Tshape: { type: 'DT_INT32' } } });
        break;
      }
      case 'SQUEEZE':
        nodes.push({ name: nameOf(out), op: 'Squeeze', input: [inName(0)], attr: { ...T, squeeze_dims: ints(opt?.ints(0) ?? []) } });
        break;
      case 'SOFTMAX':
        if ((opt?.float(0, 1) ?? 1) !== 1) throw new Error('SOFTMAX with beta ≠ 1 is not supported');
        nodes.push({ name: nameOf(out), op: 'Softmax', input: [inName(0)], attr: T });
        break;
      case 'MEAN':
        nodes.push({ name: nameOf(out), op: 'Mean', input: [inName(0), intConst(`${nameOf(out)}/axes`, intData(model.tensors[o.inputs[1]!]!))], attr: { ...T, Tidx: { type: 'DT_INT32' }, keep_dims: { b: (opt?.byte(0) ?? 0) !== 0 } } });
        break;
      case 'PAD':
        nodes.push({ name: nameOf(out), op: 'Pad', input: [inName(0), addConst({ name: unique(`${nameOf(out)}/paddings`), shape: [4, 2], dtype: 'int32', bytes: new Uint8Array(Int32Array.from(intData(model.tensors[o.inputs[1]!]!)).buffer) })], attr: { ...T, Tpaddings: { type: 'DT_INT32' } } });
        break;
      case 'CONCATENATION': {
        const axis = opt!.int(0);
        withActivation({ name: nameOf(out), op: 'ConcatV2', input: [...o.inputs.map((_, k) => inName(k)), intConst(`${nameOf(out)}/axis`, [axis], [])], attr: { ...T, N: { i: String(o.inputs.length) }, Tidx: { type: 'DT_INT32' } } }, opt!.byte(1));
        break;
      }
      default: {
        const op = { RELU: 'Relu', RELU6: 'Relu6', LOGISTIC: 'Sigmoid', TANH: 'Tanh' }[o.op as 'RELU'];
        nodes.push({ name: nameOf(out), op, input: [inName(0)], attr: T });
      }
    }
  }

  const outName = nameOf(output.index);
  const labelCount = options.dropBackground ? classes - 1 : classes;
  const labels = options.labels ? (options.dropBackground && options.labels.length === classes ? options.labels.slice(1) : options.labels) : Array.from({ length: labelCount }, (_, i) => `class ${i}`);
  if (labels.length !== labelCount) throw new Error(`${labels.length} labels for ${labelCount} classes`);
  const range = options.range ?? inputRange(input);
  const shape = (dims: number[]) => ({ dim: dims.map((d) => ({ size: String(d) })) });
  const modelJson = {
    format: 'graph-model',
    generatedBy: `tflite:${options.source}`,
    convertedBy: 'Glimpse tools/convert.ts',
    modelTopology: { node: nodes, library: {}, versions: {} },
    signature: {
      inputs: { [nameOf(input.index)]: { name: `${nameOf(input.index)}:0`, dtype: 'DT_FLOAT', tensorShape: shape([-1, height!, width!, channels!]) } },
      outputs: { [outName]: { name: `${outName}:0`, dtype: 'DT_FLOAT' } },
    },
  };
  const softmax = model.operators.at(-1)?.op === 'SOFTMAX' || nodes.some((n) => n.name === outName && n.op === 'Softmax');
  const metadata = {
    name: options.name,
    task: 'image-classification',
    format: 'graph-model',
    source: options.source,
    input: { shape: [1, height, width, channels], dtype: 'float32', layout: 'NHWC RGB', range, ...(options.crop ? { centralCrop: options.crop } : {}) },
    output: { shape: [1, labelCount], activation: softmax ? 'softmax' : 'none', labels: 'labels.json', classOffset: 0 },
  };
  return { modelJson, weights, metadata, labels };
}

/** The float range a uint8 input's quantization maps 0..255 to, snapped to [-1, 1] or [0, 1] within one step. */
export function inputRange(input: TfliteTensor): [number, number] {
  if (input.type !== 'uint8' && input.type !== 'int8') return [-1, 1];
  const [scale, zp] = [input.scale[0] ?? 1, input.zeroPoint[0] ?? 0];
  const offset = input.type === 'int8' ? -128 : 0;
  const range: [number, number] = [scale * (offset - zp), scale * (offset + 255 - zp)];
  for (const standard of [[-1, 1], [0, 1]] as const) if (Math.abs(range[0] - standard[0]) <= scale && Math.abs(range[1] - standard[1]) <= scale) return [...standard];
  return range;
}

export async function writeConverted(outDir: string, converted: ReturnType<typeof convert>, license?: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const { paths, shards } = shardWeights(converted.weights.map((w) => w.bytes));
  paths.forEach((path, i) => writeFileSync(join(outDir, path), shards[i]!));
  const weightsManifest = [{ paths, weights: converted.weights.map(({ name, shape, dtype, quantization }) => ({ name, shape, dtype, ...(quantization ? { quantization } : {}) })) }];
  writeFileSync(join(outDir, 'model.json'), JSON.stringify({ ...converted.modelJson, weightsManifest }));
  writeFileSync(join(outDir, 'labels.json'), JSON.stringify(converted.labels));
  writeFileSync(join(outDir, 'metadata.json'), JSON.stringify(converted.metadata, null, 1));
  if (license) writeFileSync(join(outDir, 'LICENSE'), license);
  await writeModelManifest(outDir);
}

function readLabels(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return path.endsWith('.json') ? (JSON.parse(text) as string[]) : text.split(/\r?\n/).filter((l) => l.trim());
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      tflite: { type: 'string' },
      out: { type: 'string' },
      labels: { type: 'string' },
      'drop-background': { type: 'boolean', default: false },
      crop: { type: 'string' },
      range: { type: 'string' },
      name: { type: 'string' },
      license: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (!values.tflite || !values.out) {
    console.error(`${HELP}\n\nerror: give --tflite and --out`);
    process.exit(2);
  }
  try {
    const model = readTflite(new Uint8Array(readFileSync(values.tflite)));
    const converted = convert(model, {
      name: values.name ?? basename(values.tflite, '.tflite'),
      source: basename(values.tflite),
      dropBackground: values['drop-background'],
      ...(values.labels ? { labels: readLabels(values.labels) } : {}),
      ...(values.crop ? { crop: Number(values.crop) } : {}),
      ...(values.range ? { range: values.range.split(',').map(Number) as [number, number] } : {}),
    });
    await writeConverted(values.out, converted, values.license ? readFileSync(values.license, 'utf8') : undefined);
    const ops = [...new Set(model.operators.map((o) => o.op))].join(', ');
    console.log(`wrote ${values.out}: ${converted.weights.length} weights, ${converted.labels.length} classes, ops ${ops}`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
