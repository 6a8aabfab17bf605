import type * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError } from '../src/core/errors';
import { isPlainFileName } from '../src/core/model-manifest';
import { MAX_CLASSES, parseModelSpec } from '../src/core/model-spec';
import { findLabels, NUMBERED_NOTE } from './label-files';
import { entryByteLength, MAX_MODEL_JSON_BYTES, modelFormatOf, type ModelFormat } from './model-files';
import {
  baseName,
  IMPORT_LIMITS,
  jsonBytes,
  parseJsonFile,
  type FormatReader,
  type ImportFile,
  type ImportOptions,
  type PreparedModel,
} from './prepared-model';

/** Labels from a Teachable Machine metadata.json (unless the user chose a file), else a labels file of any name that fits the outputs. */
function readLabels(
  files: ReadonlyMap<string, ImportFile>,
  metadata: Record<string, unknown> | null,
  outputs: number | null,
  options: ImportOptions,
  modelFile: string,
): string[] | null {
  if (!options.labels && Array.isArray(metadata?.labels) && metadata.labels.every((l) => typeof l === 'string'))
    return metadata.labels as string[];
  return findLabels(files, outputs, options.labels, [modelFile])?.labels ?? null;
}

/** The [height, width] of a layers model's image input, looking inside nested Sequentials. */
function layersInputShape(config: Record<string, any>): unknown[] | null {
  const layers = config?.config?.layers ?? config?.layers;
  const first = Array.isArray(layers) ? layers[0] : null;
  const own = config?.config?.batch_input_shape ?? first?.config?.batch_input_shape ?? first?.config?.batch_shape;
  if (Array.isArray(own)) return own;
  if (first && (first.class_name === 'Sequential' || first.class_name === 'Functional' || first.class_name === 'Model'))
    return layersInputShape(first);
  return null;
}

/** The units of a layers model's last Dense layer, looking inside nested Sequentials. */
function layersOutputUnits(config: Record<string, any>): number | null {
  const layers = config?.config?.layers ?? config?.layers;
  const last = Array.isArray(layers) ? layers.at(-1) : null;
  if (!last) return null;
  if (last.class_name === 'Dense') return last.config?.units ?? null;
  if (last.class_name === 'Sequential' || last.class_name === 'Functional' || last.class_name === 'Model')
    return layersOutputUnits(last);
  const before = layers.slice(0, -1);
  return before.length ? layersOutputUnits({ layers: before }) : null;
}

function usesLayer(config: unknown, className: string): boolean {
  return JSON.stringify(config).includes(`"class_name":"${className}"`);
}

interface Inferred {
  input: {
    shape: number[];
    range: [number, number];
    fit: 'crop' | 'squash';
    centralCrop: number;
    color?: string;
    mean?: readonly number[];
    std?: readonly number[];
  };
  activation: 'softmax' | 'none';
  why: string;
}

/** The model's input size, and its preprocessing from what the files say (or the common default). */
function inferPreprocessing(
  format: ModelFormat,
  model: tf.io.ModelJSON,
  metadata: Record<string, any> | null,
): Inferred {
  let height: number | undefined;
  let width: number | undefined;
  // Three colour channels, or one grey one.
  let channels = 3;
  const isImage = (shape: unknown[] | undefined | null) =>
    !!shape && shape.length === 4 && (shape[3] === 3 || shape[3] === 1);
  if (format === 'layers-model') {
    const topology = (model.modelTopology as Record<string, any>).model_config ?? model.modelTopology;
    const shape = layersInputShape(topology);
    if (!isImage(shape))
      throw new ModelFormatError(
        `model.json: the input is not an image tensor [batch, height, width, 3 or 1] (found ${JSON.stringify(shape)})`,
      );
    [height, width, channels] = [Number(shape![1]), Number(shape![2]), Number(shape![3])];
  } else {
    const inputs = Object.values((model as { signature?: { inputs?: Record<string, any> } }).signature?.inputs ?? {});
    if (inputs.length > 1)
      throw new ModelFormatError(`model.json: the model has ${inputs.length} inputs; an image classifier has one`);
    const dims = inputs[0]?.tensorShape?.dim?.map((d: { size: string }) => Number(d.size));
    if (dims && !isImage(dims))
      throw new ModelFormatError(
        `model.json: the input is not an image tensor [batch, height, width, 3 or 1] (found ${JSON.stringify(dims)})`,
      );
    [height, width, channels] = dims ? [dims[1], dims[2], dims[3]] : [undefined, undefined, 3];
  }
  if (metadata?.imageSize !== undefined) {
    // A Teachable Machine export: the centre square, resized, scaled as x / 127 - 1.
    const size = Number(metadata.imageSize);
    return {
      input: { shape: [1, size, size, 3], range: [-1, 255 / 127 - 1], fit: 'crop', centralCrop: 1 },
      activation: 'softmax',
      why: 'Teachable Machine export: centre square, x / 127 − 1',
    };
  }
  if (metadata?.input) {
    const spec = parseModelSpec(metadata);
    const input = {
      shape: [1, ...spec.inputSize, spec.color === 'grayscale' ? 1 : 3],
      range: [...spec.range] as [number, number],
      fit: spec.fit,
      centralCrop: spec.centralCrop,
      ...(spec.color ? { color: spec.color } : {}),
      ...(spec.normalize ?? {}),
    };
    return { input, activation: spec.outputIsLogits ? 'none' : 'softmax', why: 'from its metadata.json' };
  }
  if (!(Number.isInteger(height) && Number.isInteger(width) && height! > 0 && width! > 0)) {
    throw new ModelFormatError('model.json does not give the input size (height and width)');
  }
  const shape = [1, height!, width!, channels];
  const activation =
    usesLayer(model.modelTopology, 'Softmax') ||
    JSON.stringify(model.modelTopology).includes('"activation":"softmax"') ||
    JSON.stringify(model.modelTopology).includes('"op":"Softmax"')
      ? 'softmax'
      : 'none';
  if (usesLayer(model.modelTopology, 'Rescaling') || usesLayer(model.modelTopology, 'Normalization')) {
    return {
      input: { shape, range: [0, 255], fit: 'squash', centralCrop: 1 },
      activation,
      why: 'the model rescales its own input: raw pixels 0…255',
    };
  }
  return {
    input: { shape, range: [-1, 1], fit: 'squash', centralCrop: 1 },
    activation,
    why: 'not stated in the files: assumed [-1, 1] (MobileNet-style); correct it if the answers look wrong',
  };
}

/** The model.json among the files: by that name, else any .json that is not Glimpse's own metadata or labels. */
const modelJsonFile = (files: ReadonlyMap<string, ImportFile>) =>
  files.get('model.json') ??
  [...files.values()].find((f) => f.name.endsWith('.json') && !['metadata.json', 'labels.json'].includes(f.name));

/**
 * A TF.js graph or layers model (a Teachable Machine export among them): its weights checked
 * against model.json before a byte is read, its labels and preprocessing from its metadata.json
 * or labels file, else inferred from its graph.
 */
function prepareTfjs(
  modelFile: ImportFile,
  files: ReadonlyMap<string, ImportFile>,
  chosen: readonly ImportFile[],
  options: ImportOptions,
): PreparedModel {
  if (modelFile.bytes.byteLength > MAX_MODEL_JSON_BYTES)
    throw new ModelFormatError(`${modelFile.name} is over ${MAX_MODEL_JSON_BYTES / 1024 / 1024} MB`);
  const model = parseJsonFile(modelFile) as tf.io.ModelJSON;
  if (
    typeof model !== 'object' ||
    model === null ||
    typeof model.modelTopology !== 'object' ||
    !Array.isArray(model.weightsManifest)
  ) {
    throw new ModelFormatError(`${modelFile.name} has no modelTopology or weightsManifest: it is not a tfjs model`);
  }
  const format = modelFormatOf(model);
  const metadataFile = files.get('metadata.json');
  const metadata = metadataFile ? (parseJsonFile(metadataFile) as Record<string, any>) : null;

  // The weights, as model.json declares them, are checked before a byte of them is read.
  const out: Record<string, Uint8Array> = {};
  const seen = new Set<string>();
  let declared = 0;
  const weightsManifest = model.weightsManifest.map((group, g) => {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights))
      throw new ModelFormatError(`${modelFile.name}: a weight group lacks paths or weights`);
    const needed = group.weights.reduce((sum, entry) => sum + entryByteLength(entry), 0);
    declared += needed;
    if (declared > IMPORT_LIMITS.maxWeightBytes)
      throw new ModelFormatError(
        `${modelFile.name} declares over ${IMPORT_LIMITS.maxWeightBytes / 1024 / 1024} MB of weights`,
      );
    const paths = group.paths.map((path, p) => {
      if (typeof path !== 'string' || path === '')
        throw new ModelFormatError(
          `${modelFile.name}: a weight path is ${JSON.stringify(path)?.slice(0, 40)}, not a file name`,
        );
      const name = baseName(path);
      if (/^[a-z]+:/i.test(String(path)) || String(path).startsWith('/'))
        throw new ModelFormatError(`${modelFile.name}: weight path "${path}" is a URL or an absolute path`);
      if (seen.has(name)) throw new ModelFormatError(`${modelFile.name}: the shard ${name} is listed twice`);
      seen.add(name);
      const shard = files.get(name);
      if (!shard) throw new ModelFormatError(`the weight file ${name} named in ${modelFile.name} is missing`);
      const plain =
        isPlainFileName(name) && !['model.json', 'metadata.json', 'labels.json', 'manifest.json'].includes(name)
          ? name
          : `group${g + 1}-shard${p + 1}.bin`;
      out[plain] = shard.bytes;
      return plain;
    });
    const stored = paths.reduce((sum, name) => sum + out[name]!.byteLength, 0);
    if (stored !== needed)
      throw new ModelFormatError(
        `${paths.join(', ')}: ${stored} bytes, but ${modelFile.name} needs ${needed} (a weight file is short or not this model's)`,
      );
    return { ...group, paths };
  });

  const inferred = inferPreprocessing(format, model, metadata);
  const declaredUnits =
    format === 'layers-model'
      ? layersOutputUnits((model.modelTopology as Record<string, any>).model_config ?? model.modelTopology)
      : null;
  const units = declaredUnits === null ? null : Number(declaredUnits);
  if (units !== null && !(Number.isInteger(units) && units > 0))
    throw new ModelFormatError(
      `${modelFile.name}: the last Dense layer's units, ${JSON.stringify(declaredUnits)}, is not a whole number of outputs`,
    );
  if (units !== null && units > MAX_CLASSES)
    throw new ModelFormatError(`${units} outputs: a model has at most ${MAX_CLASSES} classes`);
  const found = readLabels(files, metadata, units, options, modelFile.name);
  // Without labels, a model whose outputs are known answers with numbers; one whose are not cannot be checked.
  if ((!found || found.length === 0) && units === null)
    throw new ModelFormatError(
      'no labels: add a labels file (a name a line, any file name), or the metadata.json exported with the model',
    );
  const labels = found && found.length > 0 ? found : Array.from({ length: units! }, (_, i) => `class ${i}`);
  if (labels.length > MAX_CLASSES)
    throw new ModelFormatError(`${labels.length} labels: a model has at most ${MAX_CLASSES} classes`);
  if (units !== null && units !== labels.length && units !== labels.length + 1)
    throw new ModelFormatError(`the model has ${units} outputs but there are ${labels.length} labels`);
  const name = String(metadata?.modelName || metadata?.name || modelFile.name.replace(/\.json$/, '') || 'model');
  const glimpseMetadata = {
    name,
    task: 'image-classification',
    format,
    source: chosen.map((f) => f.name).join(', '),
    input: { ...inferred.input, dtype: 'float32', layout: 'NHWC' },
    output: {
      shape: [1, labels.length],
      activation: inferred.activation,
      labels: 'labels.json',
      classOffset: units === labels.length + 1 ? 1 : 0,
    },
  };
  out['model.json'] = jsonBytes({ ...model, format, weightsManifest });
  out['metadata.json'] = jsonBytes(glimpseMetadata);
  out['labels.json'] = jsonBytes(labels);
  return {
    name,
    format,
    source: glimpseMetadata.source,
    spec: parseModelSpec(glimpseMetadata),
    labels,
    ...(found && found.length > 0 ? {} : { numbered: true }),
    preprocessing: found && found.length > 0 ? inferred.why : `${inferred.why}; ${NUMBERED_NOTE}`,
    files: out,
  };
}

export const tfjsReader: FormatReader = {
  claims: (files) => modelJsonFile(files) !== undefined,
  prepare: (files, chosen, options) => prepareTfjs(modelJsonFile(files)!, files, chosen, options),
};
