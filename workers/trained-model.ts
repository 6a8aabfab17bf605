import type * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../src/core/model-spec';
import type { TrainedHead, TrainOptions } from '../src/core/training';
import type { EvaluationReport } from '../src/core/metrics';
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
  attr: { value: { tensor: { dtype, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } }, dtype: { type: dtype } },
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
  /** The temperature fitted on the validation split (omitted: 1). */
  temperature?: number;
}

/** How the head's kernels are stored: float32 as trained, or smaller with the project's quantizer. */
export type HeadStorage = 'float32' | 'float16' | 'uint8';

export function combineWithHead(base: tf.io.ModelArtifacts, spec: ModelSpec, head: TrainedHead, info: TrainedModelInfo, storage: HeadStorage = 'float32'): Record<string, Uint8Array> {
  if (!spec.features) throw new Error(`${spec.name} names no feature layer in its metadata.json`);
  const nodes = (base.modelTopology as { node: Node[] }).node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  // The base graph up to the features: every node the feature node depends on.
  const keep = new Set<string>();
  for (const stack = [spec.features.node]; stack.length > 0; ) {
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

  const added: Node[] = [constNode('head/flatten/shape', 'DT_INT32', [2]), { name: 'head/flatten', op: 'Reshape', input: [spec.features.node, 'head/flatten/shape'], attr: { ...T, Tshape: { type: 'DT_INT32' } } }];
  weights.push({ spec: { name: 'head/flatten/shape', shape: [2], dtype: 'int32' }, bytes: new Uint8Array(Int32Array.from([-1, spec.features.size]).buffer) });
  let x = 'head/flatten';
  head.weights.forEach((layer, i) => {
    const last = i === head.weights.length - 1;
    const name = `head/dense_${i + 1}`;
    added.push(constNode(`${name}/kernel`, 'DT_FLOAT', layer.kernelShape), constNode(`${name}/bias`, 'DT_FLOAT', [layer.bias.length]));
    const kernel = quantize(layer.kernel, storage);
    weights.push(
      { spec: { name: `${name}/kernel`, shape: layer.kernelShape, dtype: 'float32', ...(kernel.quantization ? { quantization: kernel.quantization } : {}) } as tf.io.WeightsManifestEntry, bytes: kernel.bytes },
      { spec: { name: `${name}/bias`, shape: [layer.bias.length], dtype: 'float32' }, bytes: new Uint8Array(layer.bias.slice().buffer) },
    );
    const fused = [btoa('BiasAdd'), ...(last ? [] : [btoa('Relu')])];
    added.push({ name, op: '_FusedMatMul', input: [x, `${name}/kernel`, `${name}/bias`], attr: { ...T, transpose_a: { b: false }, transpose_b: { b: false }, fused_ops: { list: { s: fused } }, num_args: { i: '1' }, epsilon: { f: 0 } } });
    x = name;
  });
  added.push({ name: 'head/probabilities', op: 'Softmax', input: [x], attr: T });

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
    signature: { inputs: signature?.inputs, outputs: { 'head/probabilities': { name: 'head/probabilities:0', dtype: 'DT_FLOAT' } } },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w) => w.spec) }],
  };
  const metadata = {
    name: info.name,
    task: 'image-classification',
    format: 'graph-model',
    source: `trained in Glimpse on ${info.baseModel}`,
    input: { shape: [1, ...spec.inputSize, 3], dtype: 'float32', layout: 'NHWC RGB', range: spec.range, fit: spec.fit, centralCrop: spec.centralCrop },
    output: { shape: [1, info.labels.length], activation: 'softmax', labels: 'labels.json', classOffset: 0, ...(info.temperature ? { temperature: Number(info.temperature.toFixed(4)) } : {}) },
    features: spec.features,
    training: { options: info.options, bestEpoch: head.bestEpoch, epochs: head.history.length, validation: info.validation, headStorage: storage },
  };
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  return { 'model.json': encode(modelJson), 'weights.bin': shard, 'labels.json': encode(info.labels), 'metadata.json': encode(metadata) };
}
