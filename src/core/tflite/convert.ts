import { MAX_CLASSES } from '../model-spec';
import { GraphBuilder, OP_BUILDERS, PASS_THROUGH, type Weight } from './graph';
import type { TfliteModel, TfliteTensor } from './reader';

/** A TFLite image classifier as a tfjs graph model, in memory: shared by `npm run convert` and the app's model import. */

export const SUPPORTED = [...Object.keys(OP_BUILDERS), ...PASS_THROUGH];

export interface ConvertOptions {
  labels?: string[];
  dropBackground?: boolean;
  crop?: number;
  range?: [number, number];
  name: string;
  source: string;
}

export function convert(
  model: TfliteModel,
  options: ConvertOptions,
): { modelJson: object; weights: Weight[]; metadata: object; labels: string[] } {
  const unsupported = [...new Set(model.operators.map((o) => o.op).filter((op) => !SUPPORTED.includes(op)))];
  if (unsupported.length)
    throw new Error(`unsupported TFLite ops: ${unsupported.join(', ')} (supported: ${SUPPORTED.join(', ')})`);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('expected one input and one output');
  const input = model.tensors[model.inputs[0]!]!;
  const output = model.tensors[model.outputs[0]!]!;
  if (
    input.shape.length !== 4 ||
    (input.shape[3] !== 3 && input.shape[3] !== 1) ||
    input.shape[1]! < 1 ||
    input.shape[2]! < 1
  )
    throw new Error(
      `the input ${input.name} is not an image tensor [1, height, width, 3 or 1] (found ${JSON.stringify(input.shape)})`,
    );
  const classes = output.shape.at(-1) ?? 0;
  if (classes < 1 || classes > MAX_CLASSES + 1)
    throw new Error(
      `the output ${output.name} has ${classes} classes (shape ${JSON.stringify(output.shape)}); a classifier has 1 to ${MAX_CLASSES}`,
    );
  const graph = new GraphBuilder(model, options.dropBackground ? classes : -1);
  const { nodes, weights } = graph;
  const nameOf = (i: number) => graph.nameOf(i);

  const [, height, width, channels] = input.shape;
  nodes.push({
    name: nameOf(input.index),
    op: 'Placeholder',
    attr: {
      dtype: { type: 'DT_FLOAT' },
      shape: { shape: { dim: [-1, height, width, channels].map((d) => ({ size: String(d) })) } },
    },
  });
  for (const o of model.operators) {
    try {
      if (o.outputs.length === 0) throw new Error('it has no output');
      if (PASS_THROUGH.includes(o.op)) graph.alias(o.outputs[0]!, nameOf(graph.tensor(o.inputs[0]).index));
      else
        OP_BUILDERS[o.op]!(
          graph,
          o,
          () => nameOf(o.outputs[0]!),
          (k) => nameOf(graph.tensor(o.inputs[k]).index),
        );
    } catch (error) {
      throw new Error(`operator ${o.index} (${o.op}): ${(error as Error).message}`);
    }
  }

  const outName = nameOf(output.index);
  const labelCount = options.dropBackground ? classes - 1 : classes;
  const labels = options.labels
    ? options.dropBackground && options.labels.length === classes
      ? options.labels.slice(1)
      : options.labels
    : Array.from({ length: labelCount }, (_, i) => `class ${i}`);
  if (labels.length !== labelCount) throw new Error(`${labels.length} labels for ${labelCount} classes`);
  const range = options.range ?? inputRange(input);
  const shape = (dims: number[]) => ({ dim: dims.map((d) => ({ size: String(d) })) });
  const modelJson = {
    format: 'graph-model',
    generatedBy: `tflite:${options.source}`,
    convertedBy: 'Glimpse tools/convert.ts',
    modelTopology: { node: nodes, library: {}, versions: {} },
    signature: {
      inputs: {
        [nameOf(input.index)]: {
          name: `${nameOf(input.index)}:0`,
          dtype: 'DT_FLOAT',
          tensorShape: shape([-1, height!, width!, channels!]),
        },
      },
      outputs: { [outName]: { name: `${outName}:0`, dtype: 'DT_FLOAT' } },
    },
  };
  const softmax =
    model.operators.at(-1)?.op === 'SOFTMAX' || nodes.some((n) => n.name === outName && n.op === 'Softmax');
  // The pooled feature vector (a 1×1 spatial average) that a new classification head can be trained on.
  const pooled = model.operators
    .filter(
      (o) =>
        (o.op === 'AVERAGE_POOL_2D' || o.op === 'MEAN') &&
        model.tensors[o.outputs[0]!]!.shape.slice(1, 3).every((d) => d === 1),
    )
    .at(-1);
  const features = pooled
    ? { node: nameOf(pooled.outputs[0]!), size: model.tensors[pooled.outputs[0]!]!.shape.at(-1)! }
    : undefined;
  const metadata = {
    name: options.name,
    task: 'image-classification',
    format: 'graph-model',
    source: options.source,
    input: {
      shape: [1, height, width, channels],
      dtype: 'float32',
      layout: channels === 1 ? 'NHWC' : 'NHWC RGB',
      range,
      ...(options.crop ? { centralCrop: options.crop } : {}),
    },
    output: { shape: [1, labelCount], activation: softmax ? 'softmax' : 'none', labels: 'labels.json', classOffset: 0 },
    ...(features ? { features } : {}),
  };
  return { modelJson, weights, metadata, labels };
}

/** The float range a uint8 input's quantization maps 0..255 to, snapped to [-1, 1] or [0, 1] within one step. */
export function inputRange(input: TfliteTensor): [number, number] {
  if (input.type !== 'uint8' && input.type !== 'int8') return [-1, 1];
  const [scale, zp] = [input.scale[0] ?? 1, input.zeroPoint[0] ?? 0];
  const offset = input.type === 'int8' ? -128 : 0;
  const range: [number, number] = [scale * (offset - zp), scale * (offset + 255 - zp)];
  for (const standard of [
    [-1, 1],
    [0, 1],
  ] as const)
    if (Math.abs(range[0] - standard[0]) <= scale && Math.abs(range[1] - standard[1]) <= scale) return [...standard];
  return range;
}
