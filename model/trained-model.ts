import type * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../src/core/model-spec';
import type { TrainedHead, TrainOptions } from './training';
import type { EvaluationReport } from '../src/core/metrics';
import type { NearestHead } from '../src/core/nearest-neighbour';
import { quantize } from '../src/core/weight-encoding';
import { entryByteLength } from './model-files';

/**
 * The base model's graph up to its pooled features, followed by the trained head, as one
 * tfjs graph model (model.json, weights.bin, labels.json, metadata.json): any tfjs app runs
 * it with `loadGraphModel(...).predict`, and Glimpse imports and deploys it like any model.
 */

interface Node {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

const T = { T: { type: 'DT_FLOAT' } };
const constNode = (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', shape: number[]): Node => ({
  name,
  op: 'Const',
  attr: {
    value: { tensor: { dtype, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } },
    dtype: { type: dtype },
  },
});

function weightBytes(data: tf.io.WeightData): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data);
  const out = new Uint8Array(data.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const buffer of data) {
    out.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return out;
}

export interface TrainedModelInfo {
  name: string;
  labels: string[];
  options: TrainOptions;
  validation: Pick<EvaluationReport, 'n' | 'top1' | 'macro' | 'weighted'>;
  baseModel: string;
  /** Photos a nearest-neighbour head keeps, per class. */
  examples?: number[];
  /** The temperature fitted on the validation split (omitted: 1). */
  temperature?: number;
}

/** How the head's kernels are stored: float32 as trained, or smaller with the project's quantizer. */
export type HeadStorage = 'float32' | 'float16' | 'uint8';

export function combineWithHead(
  base: tf.io.ModelArtifacts,
  spec: ModelSpec,
  head: TrainedHead | NearestHead,
  info: TrainedModelInfo,
  storage: HeadStorage = 'float32',
): Record<string, Uint8Array> {
  if (!spec.features) throw new Error(`${spec.name} names no feature layer in its metadata.json`);
  const nodes = (base.modelTopology as { node: Node[] }).node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  // The base graph up to the features: every node the feature node depends on.
  const keep = new Set<string>();
  for (const stack = [spec.features.node]; stack.length > 0;) {
    const name = stack.pop()!;
    if (keep.has(name) || !byName.has(name)) continue;
    keep.add(name);
    for (const input of byName.get(name)!.input ?? []) stack.push(input.replace(/^\^/, '').split(':')[0]!);
  }
  const data = weightBytes(base.weightData!);
  const weights: { spec: tf.io.WeightsManifestEntry; bytes: Uint8Array }[] = [];
  let offset = 0;
  for (const entry of base.weightSpecs ?? []) {
    const length = entryByteLength(entry);
    if (keep.has(entry.name)) weights.push({ spec: entry, bytes: data.subarray(offset, offset + length) });
    offset += length;
  }

  const added: Node[] = [];
  /** A constant node and its value in the weights file. */
  const constant = (name: string, values: Float32Array | Int32Array, shape: number[]) => {
    const int = values instanceof Int32Array;
    added.push(constNode(name, int ? 'DT_INT32' : 'DT_FLOAT', shape));
    weights.push({
      spec: { name, shape, dtype: int ? 'int32' : 'float32' },
      bytes: new Uint8Array(values.slice().buffer),
    });
    return name;
  };
  /** x·kernel + bias, the kernel stored as `storage` says. */
  const dense = (
    name: string,
    x: string,
    kernelValues: Float32Array,
    kernelShape: [number, number],
    bias: Float32Array,
    relu: boolean,
  ) => {
    added.push(constNode(`${name}/kernel`, 'DT_FLOAT', kernelShape));
    const kernel = quantize(kernelValues, storage);
    weights.push({
      spec: {
        name: `${name}/kernel`,
        shape: kernelShape,
        dtype: 'float32',
        ...(kernel.quantization ? { quantization: kernel.quantization } : {}),
      } as tf.io.WeightsManifestEntry,
      bytes: kernel.bytes,
    });
    constant(`${name}/bias`, bias, [bias.length]);
    const fused = [btoa('BiasAdd'), ...(relu ? [btoa('Relu')] : [])];
    added.push({
      name,
      op: '_FusedMatMul',
      input: [x, `${name}/kernel`, `${name}/bias`],
      attr: {
        ...T,
        transpose_a: { b: false },
        transpose_b: { b: false },
        fused_ops: { list: { s: fused } },
        num_args: { i: '1' },
        epsilon: { f: 0 },
      },
    });
    return name;
  };
  const op = (name: string, kind: string, input: string[], attr: Record<string, unknown> = {}) => {
    added.push({ name, op: kind, input, attr: { ...T, ...attr } });
    return name;
  };
  let x = op(
    'head/flatten',
    'Reshape',
    [spec.features.node, constant('head/flatten/shape', Int32Array.from([-1, spec.features.size]), [2])],
    { Tshape: { type: 'DT_INT32' } },
  );
  if ('exemplars' in head) {
    // Cosine similarity to every example (unit-length features times unit-length examples), the
    // best per class (classes padded to the same count), the threshold as one more class.
    const size = spec.features.size;
    const groups = head.classes + 1;
    const kernel = new Float32Array(size * groups * head.perClass);
    head.exemplars.forEach((example, j) => example.forEach((v, i) => (kernel[i * groups * head.perClass + j] = v)));
    const bias = new Float32Array(groups * head.perClass);
    bias.fill(head.threshold, head.classes * head.perClass);
    const reduce = { keep_dims: { b: true }, Tidx: { type: 'DT_INT32' } };
    const squared = op('head/nearest/squared', 'Square', [x]);
    const sum = op(
      'head/nearest/sum',
      'Sum',
      [squared, constant('head/nearest/axis', Int32Array.from([1]), [1])],
      reduce,
    );
    const norm = op('head/nearest/rsqrt', 'Rsqrt', [
      op('head/nearest/floor', 'Maximum', [sum, constant('head/nearest/epsilon', Float32Array.from([1e-12]), [])]),
    ]);
    x = dense(
      'head/nearest/similarity',
      op('head/nearest/unit', 'Mul', [x, norm]),
      kernel,
      [size, groups * head.perClass],
      bias,
      false,
    );
    x = op(
      'head/nearest/grouped',
      'Reshape',
      [x, constant('head/nearest/groups', Int32Array.from([-1, groups, head.perClass]), [3])],
      { Tshape: { type: 'DT_INT32' } },
    );
    x = op('head/nearest/best', 'Max', [x, constant('head/nearest/within', Int32Array.from([2]), [1])], {
      ...reduce,
      keep_dims: { b: false },
    });
    x = op('head/nearest/logits', 'Mul', [x, constant('head/nearest/scale', Float32Array.from([head.scale]), [])]);
  } else {
    head.weights.forEach(
      (layer, i) =>
        (x = dense(`head/dense_${i + 1}`, x, layer.kernel, layer.kernelShape, layer.bias, i < head.weights.length - 1)),
    );
  }
  op('head/probabilities', 'Softmax', [x]);

  const shard = new Uint8Array(weights.reduce((n, w) => n + w.bytes.byteLength, 0));
  offset = 0;
  for (const w of weights) {
    shard.set(w.bytes, offset);
    offset += w.bytes.byteLength;
  }
  const signature = base.signature as { inputs: unknown } | undefined;
  const modelJson = {
    format: 'graph-model',
    generatedBy: `Glimpse transfer learning on ${info.baseModel}`,
    convertedBy: 'Glimpse workers/trained-model.ts',
    modelTopology: { node: [...nodes.filter((n) => keep.has(n.name)), ...added], library: {}, versions: {} },
    signature: {
      inputs: signature?.inputs,
      outputs: { 'head/probabilities': { name: 'head/probabilities:0', dtype: 'DT_FLOAT' } },
    },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w) => w.spec) }],
  };
  const metadata = {
    name: info.name,
    task: 'image-classification',
    format: 'graph-model',
    source: `trained in Glimpse on ${info.baseModel}`,
    input: {
      shape: [1, ...spec.inputSize, 3],
      dtype: 'float32',
      layout: 'NHWC RGB',
      range: spec.range,
      fit: spec.fit,
      centralCrop: spec.centralCrop,
    },
    output: {
      shape: [1, info.labels.length],
      activation: 'softmax',
      labels: 'labels.json',
      classOffset: 0,
      ...(info.temperature ? { temperature: Number(info.temperature.toFixed(4)) } : {}),
    },
    features: spec.features,
    training:
      'exemplars' in head
        ? {
            method: 'nearest',
            examples: info.examples,
            threshold: head.threshold,
            scale: head.scale,
            validation: info.validation,
            headStorage: storage,
          }
        : {
            method: 'head',
            options: info.options,
            bestEpoch: head.bestEpoch,
            epochs: head.history.length,
            validation: info.validation,
            headStorage: storage,
          },
  };
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  return {
    'model.json': encode(modelJson),
    'weights.bin': shard,
    'labels.json': encode(info.labels),
    'metadata.json': encode(metadata),
  };
}
