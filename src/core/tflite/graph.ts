import { quantize } from '../weight-encoding';
import type { Options, TfliteModel, TfliteOperator, TfliteTensor } from './reader';

/** Builds a tfjs graph (nodes and weights) from TFLite operators, one builder per op. */

type Attr = Record<string, unknown>;
export interface Node {
  name: string;
  op: string;
  input?: string[];
  attr: Attr;
}
export interface Weight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  bytes: Uint8Array;
  quantization?: { dtype: 'uint8'; scale: number; min: number } | { dtype: 'float16' };
}

export const b64 = (s: string) => btoa(s);
const ints = (xs: number[]) => ({ list: { i: xs.map(String) } });
const T = { T: { type: 'DT_FLOAT' } };
const NHWC = { s: b64('NHWC') };
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
function permute<A extends Uint8Array | Float32Array>(
  data: A,
  shape: number[],
  perm: number[],
  drop?: number,
): { data: A; shape: number[] } {
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

/**
 * The graph under construction: unique node names, constants with their weights, and the
 * class count to drop the background class from (-1 when none is dropped).
 */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly weights: Weight[] = [];
  private readonly used = new Set<string>();
  private readonly names = new Map<number, string>();

  constructor(
    readonly model: TfliteModel,
    readonly drop: number,
  ) {}

  unique(raw: string): string {
    let name = raw.split(';')[0]!.replace(/[^\w/.-]/g, '_') || 'tensor';
    for (let i = 1; this.used.has(name); i++) name = `${raw.split(';')[0]}_${i}`;
    this.used.add(name);
    return name;
  }

  nameOf(i: number): string {
    if (!this.names.has(i)) this.names.set(i, this.unique(this.tensor(i).name));
    return this.names.get(i)!;
  }

  /** Makes tensor `i` another name for an existing node (QUANTIZE/DEQUANTIZE run in float). */
  alias(i: number, name: string): void {
    this.names.set(i, name);
  }

  tensor(i: number | undefined): TfliteTensor {
    const t = i === undefined ? undefined : this.model.tensors[i];
    if (!t) throw new Error(`an input it needs is missing (tensor ${i ?? 'none'})`);
    return t;
  }

  addConst(w: Weight): string {
    const dtype = w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    this.nodes.push({
      name: w.name,
      op: 'Const',
      attr: {
        value: { tensor: { dtype, tensorShape: { dim: w.shape.map((d) => ({ size: String(d) })) } } },
        dtype: { type: dtype },
      },
    });
    this.weights.push(w);
    return w.name;
  }

  /** An int32 constant; `shape` defaults to a vector ([] makes a scalar, as ConcatV2's axis must be). */
  intConst(name: string, values: number[], shape = [values.length]): string {
    return this.addConst({
      name: this.unique(name),
      shape,
      dtype: 'int32',
      bytes: new Uint8Array(Int32Array.from(values).buffer),
    });
  }

  intData(i: number | undefined): number[] {
    const t = this.tensor(i);
    if (t.type !== 'int32' || t.data.byteLength === 0)
      throw new Error(`tensor ${t.index} (${t.name}) must be a constant int32 tensor`);
    return Array.from(new Int32Array(t.data.slice().buffer));
  }

  /** A kernel in tfjs layout: uint8 bytes copied losslessly, int8 as float16, float32 as is. */
  kernel(i: number | undefined, perm: number[], reshape?: number[], dropAxis?: number): string {
    const t = this.tensor(i);
    if (t.shape.length !== perm.length || t.data.byteLength === 0)
      throw new Error(
        `tensor ${t.index} (${t.name}) must be a constant of ${perm.length} dimensions, not ${JSON.stringify(t.shape)}`,
      );
    const dropped = dropAxis !== undefined && t.shape[dropAxis] === this.drop ? dropAxis : undefined;
    const name = this.unique(`${this.nameOf(t.index)}/weights`);
    if (t.type === 'uint8' && t.scale.length === 1) {
      const { data, shape } = permute(t.data, t.shape, perm, dropped);
      return this.addConst({
        name,
        shape: reshape ?? shape,
        dtype: 'float32',
        bytes: data,
        quantization: { dtype: 'uint8', scale: t.scale[0]!, min: -t.scale[0]! * t.zeroPoint[0]! },
      });
    }
    const { data, shape } = permute(floatValues(t), t.shape, perm, dropped);
    const stored = t.type === 'float32' ? { bytes: new Uint8Array(data.buffer) } : quantize(data, 'float16');
    return this.addConst({
      name,
      shape: reshape ?? shape,
      dtype: 'float32',
      bytes: stored.bytes,
      ...(stored.quantization ? { quantization: stored.quantization as Weight['quantization'] } : {}),
    });
  }

  bias(i: number | undefined, outChannels: number): string {
    if (i === undefined || i < 0)
      return this.addConst({
        name: this.unique('bias'),
        shape: [outChannels],
        dtype: 'float32',
        bytes: new Uint8Array(new Float32Array(outChannels).buffer),
      });
    const t = this.tensor(i);
    if (t.data.byteLength === 0) throw new Error(`the bias, tensor ${t.index} (${t.name}), is not a constant`);
    let values = floatValues(t);
    if (t.shape[0] === this.drop) values = values.slice(1);
    return this.addConst({
      name: this.unique(`${this.nameOf(i)}/bias`),
      shape: [values.length],
      dtype: 'float32',
      bytes: new Uint8Array(values.buffer),
    });
  }

  /** Output channels of a kernel whose first axis counts them, less the dropped background class. */
  outChannels(i: number | undefined): number {
    const first = this.tensor(i).shape[0]!;
    return first === this.drop ? this.drop - 1 : first;
  }

  /** A node, followed by its fused activation as a node of its own where it has one. */
  withActivation(node: Node, activation: number): void {
    const act = ACTIVATIONS[activation];
    if (act === undefined) throw new Error(`unsupported fused activation ${activation}`);
    if (!act) {
      this.nodes.push(node);
      return;
    }
    const out = node.name;
    this.nodes.push(
      { ...node, name: this.unique(`${out}/pre_activation`) },
      { name: out, op: act, input: [this.nodes.at(-1)!.name], attr: T },
    );
  }
}

/** The attributes of tfjs's fused ops for a TFLite fused activation (bias add, then the activation). */
function fused(activation: number): Attr {
  if (!(activation in ACTIVATIONS)) throw new Error(`unsupported fused activation ${activation}`);
  const act = ACTIVATIONS[activation];
  return {
    fused_ops: { list: { s: [b64('BiasAdd'), ...(act ? [b64(act)] : [])] } },
    num_args: { i: '1' },
    epsilon: { f: 0 },
  };
}

function options(o: TfliteOperator): Options {
  if (!o.options) throw new Error('its options are missing');
  return o.options;
}

const padding = (o: TfliteOperator) => ({ s: b64(o.options?.byte(0) === 1 ? 'VALID' : 'SAME') });

/**
 * Builds the nodes of one operator. `out()` and `input(k)` name tensors on first use: they
 * are called in the order the names are to be taken, so names never change between releases.
 */
type OpBuilder = (g: GraphBuilder, o: TfliteOperator, out: () => string, input: (k: number) => string) => void;

const simple =
  (op: string): OpBuilder =>
  (g, _o, out, input) =>
    g.nodes.push({ name: out(), op, input: [input(0)], attr: T });

const pool =
  (op: string): OpBuilder =>
  (g, o, out, input) => {
    const opt = options(o);
    g.withActivation(
      {
        name: out(),
        op,
        input: [input(0)],
        attr: {
          ...T,
          data_format: NHWC,
          ksize: ints([1, opt.int(4), opt.int(3), 1]),
          strides: ints([1, opt.int(2), opt.int(1), 1]),
          padding: padding(o),
        },
      },
      opt.byte(5),
    );
  };

const binary =
  (op: string): OpBuilder =>
  (g, o, out, input) =>
    g.withActivation({ name: out(), op, input: [input(0), input(1)], attr: T }, o.options?.byte(0) ?? 0);

/** One builder per supported TFLite op, in TFLite's option-table layout. */
export const OP_BUILDERS: Record<string, OpBuilder> = {
  CONV_2D: (g, o, out, input) => {
    const opt = options(o);
    const filter = g.kernel(o.inputs[1], [1, 2, 3, 0], undefined, 0);
    const b = g.bias(o.inputs[2], g.outChannels(o.inputs[1]));
    g.nodes.push({
      name: out(),
      op: '_FusedConv2D',
      input: [input(0), filter, b],
      attr: {
        ...T,
        data_format: NHWC,
        strides: ints([1, opt.int(2, 1), opt.int(1, 1), 1]),
        dilations: ints([1, opt.int(5, 1), opt.int(4, 1), 1]),
        padding: padding(o),
        explicit_paddings: { list: {} },
        use_cudnn_on_gpu: { b: true },
        ...fused(opt.byte(3)),
      },
    });
  },
  DEPTHWISE_CONV_2D: (g, o, out, input) => {
    const opt = options(o);
    const multiplier = Math.max(1, opt.int(3, 1));
    const [, h, wd, cm] = g.tensor(o.inputs[1]).shape as [number, number, number, number];
    // [1, H, W, C*M] and [H, W, C, M] share one memory order: only the shape changes.
    const filter = g.kernel(o.inputs[1], [0, 1, 2, 3], [h, wd, cm / multiplier, multiplier]);
    const b = g.bias(o.inputs[2], cm);
    g.nodes.push({
      name: out(),
      op: 'FusedDepthwiseConv2dNative',
      input: [input(0), filter, b],
      attr: {
        ...T,
        data_format: NHWC,
        strides: ints([1, opt.int(2, 1), opt.int(1, 1), 1]),
        dilations: ints([1, opt.int(6, 1), opt.int(5, 1), 1]),
        padding: padding(o),
        explicit_paddings: { list: {} },
        ...fused(opt.byte(4)),
      },
    });
  },
  FULLY_CONNECTED: (g, o, out, input) => {
    // TFLite keeps the matrix as [units, depth]; it is stored transposed, [depth, units]:
    // tfjs-backend-wasm 4.22's fused MatMul with transpose_b and a bias answers wrongly (off by
    // 26 at depth 1280, 6 at 300; tfjs-cpu and the untransposed product are right).
    const matrix = g.kernel(o.inputs[1], [1, 0], undefined, 0);
    const b = g.bias(o.inputs[2], g.outChannels(o.inputs[1]));
    // TFLite flattens the input to [batch, depth] first (a pooling's [1, 1, 1, depth]).
    const depth = g.tensor(o.inputs[1]).shape[1]!;
    const flat = `${out()}/flatten`;
    g.nodes.push({
      name: flat,
      op: 'Reshape',
      input: [input(0), g.intConst(`${flat}/shape`, [-1, depth])],
      attr: { ...T, Tshape: { type: 'DT_INT32' } },
    });
    g.nodes.push({
      name: out(),
      op: '_FusedMatMul',
      input: [flat, matrix, b],
      attr: { ...T, transpose_a: { b: false }, transpose_b: { b: false }, ...fused(o.options?.byte(0) ?? 0) },
    });
  },
  ADD: binary('AddV2'),
  MUL: binary('Mul'),
  AVERAGE_POOL_2D: pool('AvgPool'),
  MAX_POOL_2D: pool('MaxPool'),
  RESHAPE: (g, o, out, input) => {
    const declared = g.tensor(o.outputs[0]!).shape;
    const target = (declared.length ? declared : g.intData(o.inputs[1])).map((d, i) =>
      i === 0 ? -1 : d === g.drop ? d - 1 : d,
    );
    g.nodes.push({
      name: out(),
      op: 'Reshape',
      input: [input(0), g.intConst(`${out()}/shape`, target)],
      attr: { ...T, Tshape: { type: 'DT_INT32' } },
    });
  },
  SQUEEZE: (g, o, out, input) =>
    g.nodes.push({
      name: out(),
      op: 'Squeeze',
      input: [input(0)],
      attr: { ...T, squeeze_dims: ints(o.options?.ints(0, 'squeeze_dims') ?? []) },
    }),
  SOFTMAX: (g, o, out, input) => {
    if ((o.options?.float(0, 1) ?? 1) !== 1) throw new Error('SOFTMAX with beta ≠ 1 is not supported');
    g.nodes.push({ name: out(), op: 'Softmax', input: [input(0)], attr: T });
  },
  MEAN: (g, o, out, input) =>
    g.nodes.push({
      name: out(),
      op: 'Mean',
      input: [input(0), g.intConst(`${out()}/axes`, g.intData(o.inputs[1]))],
      attr: { ...T, Tidx: { type: 'DT_INT32' }, keep_dims: { b: (o.options?.byte(0) ?? 0) !== 0 } },
    }),
  PAD: (g, o, out, input) => {
    const paddings = g.addConst({
      name: g.unique(`${out()}/paddings`),
      shape: [4, 2],
      dtype: 'int32',
      bytes: new Uint8Array(Int32Array.from(g.intData(o.inputs[1])).buffer),
    });
    g.nodes.push({
      name: out(),
      op: 'Pad',
      input: [input(0), paddings],
      attr: { ...T, Tpaddings: { type: 'DT_INT32' } },
    });
  },
  CONCATENATION: (g, o, out, input) => {
    const opt = options(o);
    g.withActivation(
      {
        name: out(),
        op: 'ConcatV2',
        input: [...o.inputs.map((_, k) => input(k)), g.intConst(`${out()}/axis`, [opt.int(0)], [])],
        attr: { ...T, N: { i: String(o.inputs.length) }, Tidx: { type: 'DT_INT32' } },
      },
      opt.byte(1),
    );
  },
  RELU: simple('Relu'),
  RELU6: simple('Relu6'),
  LOGISTIC: simple('Sigmoid'),
  TANH: simple('Tanh'),
};

/** Ops that need no node: activations run in float, so (de)quantizing is the identity. */
export const PASS_THROUGH = ['QUANTIZE', 'DEQUANTIZE'];
