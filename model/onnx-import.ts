import { ModelFormatError } from '../src/core/errors';
import { isNoticeFile, isPlainFileName, MANIFEST_FILE, ONNX_FILE } from '../src/core/model-manifest';
import { findLabels, NUMBERED_NOTE } from './label-files';
import { MAX_CLASSES, parseModelSpec } from '../src/core/model-spec';
import { readOnnx, type OnnxGraph, type OnnxValue } from '../src/core/onnx-reader';
import { ONNX_PRESETS, type OnnxPreset } from '../src/core/onnx-presets';
import {
  baseName,
  jsonBytes,
  parseJsonFile,
  type FormatReader,
  type ImportFile,
  type ImportOptions,
  type PreparedModel,
} from './prepared-model';

/**
 * An ONNX image classifier (PyTorch, timm, Optimum, a Hugging Face / Transformers.js folder)
 * → Glimpse's layout: model.onnx, labels.json and a metadata.json that says how to prepare
 * images, read from preprocessor_config.json where there is one. Nothing here runs the model:
 * the classifier worker's trial does, on ONNX Runtime.
 */

/** Transformers.js's variant names, most preferred first: quantized files are smaller and usually as accurate. */
const VARIANT_ORDER = [
  /^model_quantized\.onnx$/i,
  /^model_int8\.onnx$/i,
  /^model_uint8\.onnx$/i,
  /^model_q4\.onnx$/i,
  /^model_fp16\.onnx$/i,
  /^model\.onnx$/i,
];

/** The .onnx files given, in the order they are chosen from (the quantized one first). */
export function onnxVariants(names: readonly string[]): string[] {
  const rank = (name: string) => {
    const i = VARIANT_ORDER.findIndex((pattern) => pattern.test(name));
    return i < 0 ? VARIANT_ORDER.length : i;
  };
  return names.filter((n) => n.toLowerCase().endsWith('.onnx')).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function parseJson(file: ImportFile): Record<string, unknown> {
  const value = parseJsonFile(file);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ModelFormatError(`${file.name} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** config.json's id2label, in index order. */
function labelsFromConfig(config: Record<string, unknown>): string[] | null {
  const map = config.id2label;
  if (typeof map !== 'object' || map === null) return null;
  const entries = Object.entries(map as Record<string, unknown>);
  if (entries.length > MAX_CLASSES)
    throw new ModelFormatError(`config.json: ${entries.length} labels, over ${MAX_CLASSES} classes`);
  const labels: string[] = new Array(entries.length);
  for (const [key, label] of entries) {
    const index = Number(key);
    if (
      !Number.isInteger(index) ||
      index < 0 ||
      index >= entries.length ||
      typeof label !== 'string' ||
      labels[index] !== undefined
    ) {
      throw new ModelFormatError(`config.json: id2label must map 0…${entries.length - 1} to names (found "${key}")`);
    }
    labels[index] = label;
  }
  return labels;
}

const isSize = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0 && (x as number) <= 4096;

const badConfig = (field: string, why: string) => new ModelFormatError(`preprocessor_config.json: ${field} ${why}`);

/** A size field as {height, width}, or {shortest_edge}, or a bare number; a size given out of range is refused, not ignored. */
function sizeOf(value: unknown, field: string): { height?: number; width?: number; shortest?: number } {
  const checked = (x: unknown, part: string) => {
    if (x !== undefined && x !== null && !isSize(x))
      throw badConfig(`${field}${part}`, `is ${JSON.stringify(x)?.slice(0, 40)}: a size is 1 to 4096 pixels`);
    return x as number | undefined;
  };
  if (typeof value !== 'object' || value === null) {
    const size = checked(value, '');
    return size ? { height: size, width: size } : {};
  }
  const v = value as Record<string, unknown>;
  const [height, width, shortest] = [
    checked(v.height, '.height'),
    checked(v.width, '.width'),
    checked(v.shortest_edge, '.shortest_edge'),
  ];
  return { ...(height && width ? { height, width } : {}), ...(shortest ? { shortest } : {}) };
}

function channels(value: unknown, field: string, positive = false): [number, number, number] | undefined {
  if (value === undefined) return undefined;
  // One number, or a list of one (a grey-scale model's), stands for all three channels.
  const list =
    typeof value === 'number'
      ? [value, value, value]
      : Array.isArray(value) && value.length === 1
        ? [value[0], value[0], value[0]]
        : value;
  if (!Array.isArray(list) || list.length !== 3 || !list.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw badConfig(field, 'must be three numbers (R, G, B)');
  }
  if (positive && list.some((x) => x <= 0))
    throw badConfig(field, 'must be three numbers above 0 (it divides the pixels)');
  return list as [number, number, number];
}

/** rescale_factor: a positive number (1/255 is usual) that keeps 255 × it finite; absent, 1/255. */
function rescaleFactor(value: unknown): number {
  if (value === undefined) return 1 / 255;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || !Number.isFinite(255 * value))
    throw badConfig('rescale_factor', 'must be a number above 0 (1/255 is usual)');
  return value;
}

interface Preprocessing {
  size?: [number, number];
  range: [number, number];
  fit: 'crop' | 'squash';
  centralCrop: number;
  normalize?: { mean: [number, number, number]; std: [number, number, number] };
  why: string;
}

/** Hugging Face's image processor settings → Glimpse's (resampling is always bilinear here, after an antialiased downscale). */
export function fromPreprocessorConfig(config: Record<string, unknown>): Preprocessing {
  const resize = config.do_resize !== false;
  const size = sizeOf(config.size, 'size');
  const crop = config.do_center_crop === true ? sizeOf(config.crop_size, 'crop_size') : {};
  const cropPct =
    typeof config.crop_pct === 'number' && config.crop_pct > 0 && config.crop_pct <= 1 ? config.crop_pct : null;
  const rescale = config.do_rescale !== false;
  const factor = rescale ? rescaleFactor(config.rescale_factor) : 1 / 255;
  const mean = channels(config.image_mean, 'image_mean');
  const std = channels(config.image_std, 'image_std', true);
  const normalize = config.do_normalize !== false && mean && std ? { mean, std } : undefined;
  const range: [number, number] = rescale ? [0, 255 * factor] : [0, 255];
  let fit: 'crop' | 'squash' = 'crop';
  let centralCrop = 1;
  let out: [number, number] | undefined;
  let how: string;
  if (crop.height && crop.width) {
    out = [crop.height, crop.width];
    // Resize the shorter side to S, then crop H×W: the crop keeps min(H, W) / S of the shorter side.
    centralCrop =
      resize && size.shortest
        ? Math.min(1, Math.min(crop.height, crop.width) / size.shortest)
        : resize && size.height && size.width
          ? Math.min(1, Math.min(crop.height, crop.width) / Math.min(size.height, size.width))
          : 1;
    how = `centre crop ${crop.height}×${crop.width}${centralCrop < 1 ? ` of the shorter side resized to ${Math.round(Math.min(crop.height, crop.width) / centralCrop)}` : ''}`;
  } else if (cropPct !== null && size.shortest) {
    out = [size.shortest, size.shortest];
    centralCrop = cropPct;
    how = `centre crop of ${Math.round(cropPct * 1000) / 10}% (crop_pct), resized to ${size.shortest}`;
  } else if (resize && size.height && size.width) {
    out = [size.height, size.width];
    fit = 'squash';
    how = `whole image resized to ${size.height}×${size.width}`;
  } else {
    if (size.shortest) out = [size.shortest, size.shortest];
    how = 'centre square';
  }
  const scale = rescale ? `×${Number(factor.toPrecision(6))}` : 'pixels 0–255';
  const norm = normalize ? `, mean ${JSON.stringify(normalize.mean)} std ${JSON.stringify(normalize.std)}` : '';
  return {
    ...(out ? { size: out } : {}),
    range,
    fit,
    centralCrop,
    ...(normalize ? { normalize } : {}),
    why: `from preprocessor_config.json: ${how}, ${scale}${norm}`,
  };
}

function fromPreset(preset: OnnxPreset, stated: boolean): Preprocessing {
  const { range, normalize, label } = ONNX_PRESETS[preset];
  return {
    range: [...range],
    fit: 'crop',
    centralCrop: preset === 'imagenet' ? 0.875 : 1,
    ...(normalize ? { normalize: { mean: [...normalize.mean], std: [...normalize.std] } } : {}),
    why: stated
      ? `preset "${label}"`
      : `not stated in the files: assumed "${label}"; choose another preset below if the answers look wrong`,
  };
}

const TENSOR_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  10: 'float16',
  11: 'float64',
};

const shapeText = (value: OnnxValue) =>
  value.dims ? `[${value.dims.map((d) => d ?? '?').join(', ')}]` : 'of unknown shape';

/** The image input: NCHW or NHWC from where its 3 (or 1, grey) channels are, its batch free or 1, its size stated or from the preprocessing. */
function imageInput(
  graph: OnnxGraph,
  file: string,
): { layout: 'nchw' | 'nhwc'; channels: 1 | 3; size: [number, number] | null } {
  if (graph.inputs.length !== 1)
    throw new ModelFormatError(
      `${file}: the model has ${graph.inputs.length} inputs (${graph.inputs.map((i) => i.name).join(', ')}); an image classifier has one`,
    );
  const input = graph.inputs[0]!;
  if (input.elemType !== 1)
    throw new ModelFormatError(
      `${file}: the input ${input.name} is ${TENSOR_TYPES[input.elemType] ?? `type ${input.elemType}`}; Glimpse feeds float32 images`,
    );
  const dims = input.dims;
  if (!dims || dims.length !== 4)
    throw new ModelFormatError(
      `${file}: the input ${input.name} is ${shapeText(input)}, not an image batch [batch, 3, height, width]`,
    );
  if (typeof dims[0] === 'number' && dims[0] !== 1)
    throw new ModelFormatError(
      `${file}: the input takes batches of ${dims[0]}; Glimpse classifies one image at a time`,
    );
  const isChannels = (d: unknown): d is 1 | 3 => d === 3 || d === 1;
  const layout = isChannels(dims[1]) ? 'nchw' : isChannels(dims[3]) ? 'nhwc' : null;
  if (!layout)
    throw new ModelFormatError(
      `${file}: the input ${input.name} is ${shapeText(input)}: no axis of 3 colour channels or 1 grey one`,
    );
  const [h, w] = layout === 'nchw' ? [dims[2], dims[3]] : [dims[1], dims[2]];
  for (const side of [h, w])
    if (typeof side === 'number' && !isSize(side))
      throw new ModelFormatError(
        `${file}: the input ${input.name} is ${shapeText(input)}: an image side of ${side} pixels (Glimpse takes 1 to 4096)`,
      );
  return {
    layout,
    channels: (layout === 'nchw' ? dims[1] : dims[3]) as 1 | 3,
    size: isSize(h) && isSize(w) ? [h, w] : null,
  };
}

/** The class scores: one output [batch, n]; anything else is a detector, a segmenter or an embedder. */
function classOutput(graph: OnnxGraph, file: string): { classes: number | null; probabilities: boolean } {
  if (graph.outputs.length !== 1)
    throw new ModelFormatError(
      `${file}: the model has ${graph.outputs.length} outputs (${graph.outputs.map((o) => o.name).join(', ')}): a detection or segmentation model, not a classifier`,
    );
  const output = graph.outputs[0]!;
  const dims = output.dims;
  if (dims && dims.length !== 2)
    throw new ModelFormatError(
      `${file}: the output ${output.name} is ${shapeText(output)}, not class scores [batch, classes] (a detection or segmentation model?)`,
    );
  const classes = dims && typeof dims[1] === 'number' ? dims[1] : null;
  // Checked before anything is made from it: a model may declare any number of classes in a few bytes.
  if (classes !== null && (classes < 1 || classes > MAX_CLASSES))
    throw new ModelFormatError(
      `${file}: the output ${output.name} is ${shapeText(output)}: ${classes} classes, where a model has 1 to ${MAX_CLASSES}`,
    );
  const producer = graph.nodes.find((node) => node.outputs.includes(output.name));
  return { classes, probabilities: producer?.opType === 'Softmax' };
}

/** An ONNX classifier among `files` (by plain name), its folder's name if it came in one. */
function prepareOnnx(
  files: ReadonlyMap<string, ImportFile>,
  folder: string | null,
  options: ImportOptions,
): PreparedModel {
  const variants = onnxVariants([...files.keys()]);
  const chosen = options.variant ?? variants[0]!;
  const file = files.get(chosen);
  if (!file || !chosen.toLowerCase().endsWith('.onnx')) throw new ModelFormatError(`no ${chosen} among the files`);
  const graph = readOnnx(file.bytes, file.name);
  // External data is read only from the files given, by plain name: never a path, never a URL.
  const external: Record<string, Uint8Array> = {};
  for (const location of graph.externalFiles) {
    if (
      !isPlainFileName(location) ||
      [ONNX_FILE, 'metadata.json', 'labels.json', MANIFEST_FILE].includes(location) ||
      isNoticeFile(location)
    ) {
      throw new ModelFormatError(
        `${file.name} keeps weights in "${location.slice(0, 80)}", which is not a plain file name beside it`,
      );
    }
    const data = files.get(location);
    if (!data)
      throw new ModelFormatError(
        `${file.name} keeps its weights in ${location} (external data), which is not among the files: choose it with the model`,
      );
    external[location] = data.bytes;
  }
  const { layout, channels: inputChannels, size: stated } = imageInput(graph, file.name);
  const output = classOutput(graph, file.name);

  const configFile = files.get('config.json');
  const config = configFile ? parseJson(configFile) : null;
  const processorFile = files.get('preprocessor_config.json');
  const preprocessing = processorFile
    ? fromPreprocessorConfig(parseJson(processorFile))
    : fromPreset(
        options.preset ?? (inputChannels === 1 ? 'raw' : layout === 'nchw' ? 'imagenet' : 'minus1to1'),
        options.preset !== undefined,
      );
  const size = stated ?? preprocessing.size;
  if (!size)
    throw new ModelFormatError(
      `${file.name}: the input's height and width are not fixed, and ${processorFile ? 'preprocessor_config.json gives no size' : 'no preprocessor_config.json gives them'}`,
    );

  const classes = output.classes;
  const configLabels = options.labels ? null : config && labelsFromConfig(config);
  const found = configLabels ? null : findLabels(files, classes, options.labels);
  let labels = configLabels ?? found?.labels ?? null;
  let labelNote = found ? `; labels from ${found.file}` : '';
  if (!labels) {
    if (classes === null)
      throw new ModelFormatError(
        `${file.name}: the number of classes is not fixed in the model; add a labels file (a name a line) or a config.json with id2label`,
      );
    labels = Array.from({ length: classes }, (_, i) => String(i));
    labelNote = `; ${NUMBERED_NOTE} 0…${classes - 1}`;
  }
  if (labels.length === 0 || labels.length > MAX_CLASSES)
    throw new ModelFormatError(`${labels.length} labels: a model has 1 to ${MAX_CLASSES} classes`);
  // A list one shorter than the outputs leaves out the model's leading background class.
  const classOffset = classes !== null && classes === labels.length + 1 ? 1 : 0;
  if (classes !== null && classes !== labels.length + classOffset)
    throw new ModelFormatError(`the model has ${classes} outputs but there are ${labels.length} labels`);

  const name =
    folder || (typeof config?._name_or_path === 'string' && config._name_or_path) || file.name.replace(/\.onnx$/i, '');
  const metadata = {
    name,
    task: 'image-classification',
    format: 'onnx',
    source: file.name,
    input: {
      shape: layout === 'nchw' ? [1, inputChannels, ...size] : [1, ...size, inputChannels],
      layout: layout === 'nchw' ? 'NCHW' : 'NHWC',
      dtype: 'float32',
      range: preprocessing.range,
      fit: preprocessing.fit,
      centralCrop: preprocessing.centralCrop,
      ...(preprocessing.normalize ?? {}),
    },
    output: {
      shape: [1, labels.length],
      activation: output.probabilities ? 'softmax' : 'none',
      labels: 'labels.json',
      classOffset,
    },
  };
  const others = variants.filter((v) => v !== chosen);
  const outputNote = output.probabilities
    ? 'the model outputs probabilities (it ends in Softmax)'
    : 'the model outputs logits: Glimpse applies softmax';
  return {
    name,
    format: 'onnx',
    source: file.name,
    spec: parseModelSpec(metadata),
    labels,
    ...(found || configLabels ? {} : { numbered: true }),
    preprocessing: `${preprocessing.why}; ${layout.toUpperCase()}${inputChannels === 1 ? ', grey-scale' : ''}; ${outputNote}${labelNote}`,
    ...(others.length ? { variants: [chosen, ...others] } : {}),
    files: {
      [ONNX_FILE]: file.bytes,
      'metadata.json': jsonBytes(metadata),
      'labels.json': jsonBytes(labels),
      ...external,
    },
  };
}

/** The folder the files came in (a chosen folder's relative paths, or a .zip's name), which names an ONNX model. */
function folderOf(given: readonly ImportFile[]): string | null {
  const zip =
    given.length === 1 && given[0]!.name.toLowerCase().endsWith('.zip') ? baseName(given[0]!.name).slice(0, -4) : null;
  return zip || (given.find((f) => f.name.includes('/'))?.name.split('/')[0] ?? null);
}

export const onnxReader: FormatReader = {
  claims: (files) => [...files.keys()].some((name) => name.toLowerCase().endsWith('.onnx')),
  prepare: (files, chosen, options) => prepareOnnx(files, folderOf(chosen), options),
};
