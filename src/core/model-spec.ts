import { TEMPERATURE_RANGE } from './calibration';
import { ModelFormatError } from './errors';

/**
 * What the app needs to know about a model, read from its `metadata.json` so that
 * another classifier can be dropped into `public/model/` without code changes.
 */
export interface ModelSpec {
  name: string;
  /** Model input height and width in pixels. */
  inputSize: readonly [number, number];
  /** Pixel 0 maps to range[0], pixel 255 to range[1]. */
  range: readonly [number, number];
  /**
   * 'crop': the central square of `centralCrop` × the shorter side is resized to the input;
   * 'squash': the whole image is resized to it, aspect ratio ignored.
   */
  fit: 'crop' | 'squash';
  /** Fraction of the shorter side the central square keeps (with fit 'crop'). */
  centralCrop: number;
  /** Per-channel normalisation after the range, v = (v − mean) / std (PyTorch and timm models), in the input's channel order (B, G, R for a BGR model; the first value for grey). */
  normalize?: { mean: readonly [number, number, number]; std: readonly [number, number, number] };
  /** The input tensor's layout: NHWC (TensorFlow) or NCHW (PyTorch, most ONNX exports). */
  layout: 'nhwc' | 'nchw';
  /**
   * The input's colour: three channels in RGB or BGR order (OpenCV and Caffe models), or one grey
   * channel (ITU-R BT.601 luma, as PIL's "L" mode computes it). Metadata `input.color`; a shape with
   * one channel is grey-scale, and a layout that says "BGR" is BGR. Absent: RGB.
   */
  color?: InputColor;
  /** Whether the model's output still needs a softmax. */
  outputIsLogits: boolean;
  /** Output index of labels[0]; models with a leading "background" class use 1. */
  classOffset: number;
  /** The temperature its probabilities are calibrated with (metadata `output.temperature`; 1 when absent). */
  temperature?: number;
  /** The graph node whose output is the pooled feature vector, where a new head can be trained (metadata `features`). */
  features?: { node: string; size: number };
}

export type InputColor = 'rgb' | 'bgr' | 'grayscale';
export const INPUT_COLORS: readonly InputColor[] = ['rgb', 'bgr', 'grayscale'];

/** Classes a model may have: above ImageNet-21k's 21,843, and small enough that labels, answers and a per-class report stay cheap. */
export const MAX_CLASSES = 50_000;

function fail(field: string, why: string): never {
  throw new ModelFormatError(`metadata.json: ${field} ${why}`);
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function record(x: unknown, field: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(field, 'must be an object');
  return x as Record<string, unknown>;
}

/** Converters that describe the crop in words ("central square crop of 87.5% of the shorter side"). */
function cropFromProse(resize: unknown): number {
  const percent =
    typeof resize === 'string' ? /central (?:square )?crop of ([\d.]+)\s*%/i.exec(resize)?.[1] : undefined;
  return percent ? Number(percent) / 100 : 1;
}

function triple(x: unknown, field: string): [number, number, number] {
  if (!Array.isArray(x) || x.length !== 3 || !x.every(isFiniteNumber)) fail(field, 'must be three numbers (R, G, B)');
  return x as [number, number, number];
}

export function parseModelSpec(json: unknown): ModelSpec {
  const meta = record(json, 'root');
  const input = record(meta.input, 'input');
  const output = meta.output === undefined ? {} : record(meta.output, 'output');

  // The layout is stated ("NCHW", or the older "NHWC RGB") or read from where the 3 channels are.
  const shape = input.shape;
  const layout = typeof input.layout === 'string' && /^nchw/i.test(input.layout) ? 'nchw' : 'nhwc';
  const channelAxis = layout === 'nchw' ? 1 : 3;
  if (!Array.isArray(shape) || shape.length !== 4 || (shape[channelAxis] !== 3 && shape[channelAxis] !== 1)) {
    fail(
      'input.shape',
      layout === 'nchw' ? 'must be [batch, 3 or 1, height, width] (NCHW)' : 'must be [batch, height, width, 3 or 1]',
    );
  }
  const stated = input.color ?? (typeof input.layout === 'string' && /bgr/i.test(input.layout) ? 'bgr' : undefined);
  if (stated !== undefined && !INPUT_COLORS.includes(stated as InputColor))
    fail('input.color', 'must be "rgb", "bgr" or "grayscale"');
  const color: InputColor = shape[channelAxis] === 1 ? 'grayscale' : ((stated as InputColor | undefined) ?? 'rgb');
  if ((color === 'grayscale') !== (shape[channelAxis] === 1))
    fail('input.color', `is "${color}", but the input has ${shape[channelAxis]} channels`);
  const [height, width] = layout === 'nchw' ? [shape[2], shape[3]] : [shape[1], shape[2]];
  if (
    !Number.isInteger(height) ||
    !Number.isInteger(width) ||
    height < 1 ||
    width < 1 ||
    height > 4096 ||
    width > 4096
  ) {
    fail('input.shape', 'needs a height and width between 1 and 4096');
  }

  const range = input.range;
  if (!Array.isArray(range) || range.length !== 2 || !range.every(isFiniteNumber) || range[0] === range[1]) {
    fail('input.range', 'must be two different numbers, e.g. [-1, 1] or [0, 1]');
  }

  const crop = input.centralCrop ?? cropFromProse(input.resize);
  if (!isFiniteNumber(crop) || crop <= 0 || crop > 1) fail('input.centralCrop', 'must be in (0, 1]');
  // Without an explicit fit, a crop below 1 means cropping and 1 means squashing (the older convention).
  const fit = input.fit ?? (crop < 1 ? 'crop' : 'squash');
  if (fit !== 'crop' && fit !== 'squash') fail('input.fit', 'must be "crop" or "squash"');

  const normalize =
    input.mean === undefined && input.std === undefined
      ? undefined
      : { mean: triple(input.mean, 'input.mean'), std: triple(input.std, 'input.std') };
  if (normalize && normalize.std.some((s) => s === 0)) fail('input.std', 'must not be 0');

  const activation = output.activation ?? 'softmax';
  if (activation !== 'softmax' && activation !== 'none') fail('output.activation', 'must be "softmax" or "none"');

  const classOffset = output.classOffset ?? 0;
  if (!Number.isInteger(classOffset) || (classOffset as number) < 0)
    fail('output.classOffset', 'must be a whole number ≥ 0');

  const temperature = output.temperature;
  if (
    temperature !== undefined &&
    !(isFiniteNumber(temperature) && temperature >= TEMPERATURE_RANGE[0] && temperature <= TEMPERATURE_RANGE[1])
  ) {
    fail('output.temperature', `must be a number from ${TEMPERATURE_RANGE[0]} to ${TEMPERATURE_RANGE[1]}`);
  }

  const features = meta.features === undefined ? undefined : record(meta.features, 'features');
  if (
    features &&
    (typeof features.node !== 'string' || !Number.isInteger(features.size) || (features.size as number) < 1)
  )
    fail('features', 'must be {node, size}');
  return {
    ...(features ? { features: { node: features.node as string, size: features.size as number } } : {}),
    name: typeof meta.name === 'string' && meta.name ? meta.name : 'model',
    inputSize: [height as number, width as number],
    range: [range[0] as number, range[1] as number],
    fit,
    centralCrop: crop,
    ...(normalize ? { normalize } : {}),
    layout,
    ...(color === 'rgb' ? {} : { color }),
    outputIsLogits: activation === 'none',
    classOffset: classOffset as number,
    ...(temperature === undefined || temperature === 1 ? {} : { temperature: temperature as number }),
  };
}

/** A trial run's answer must hold one number per label (after a dropped background class): anything else is not a classifier for them. */
export function checkOutputCount(outputs: number, labels: number, classOffset = 0): void {
  if (outputs !== labels + classOffset)
    throw new ModelFormatError(
      `the model answers with ${outputs} numbers, but it has ${labels} labels: it is not a classifier for them (a detection or segmentation model?)`,
    );
}

export function parseLabels(json: unknown): string[] {
  if (!Array.isArray(json) || json.length === 0 || !json.every((l) => typeof l === 'string')) {
    throw new ModelFormatError('labels.json must be a non-empty array of strings');
  }
  if (json.length > MAX_CLASSES)
    throw new ModelFormatError(`labels.json: ${json.length} labels, over ${MAX_CLASSES} classes`);
  return json as string[];
}
