import type * as tf from '@tensorflow/tfjs-core';
import type { ModelAbout } from '../src/core/classifier-types';
import { ModelFormatError } from '../src/core/errors';
import { isPlainFileName, TFLITE_FILE } from '../src/core/model-manifest';
import { MAX_CLASSES, parseModelSpec } from '../src/core/model-spec';
import { convert } from '../src/core/tflite/convert';
import { labelFileFor, readTfliteMetadata, type TfliteMetadata } from '../src/core/tflite/metadata';
import { readTflite, type TfliteModel, type TfliteTensor } from '../src/core/tflite/reader';
import { readZip } from './zip-reader';
import { prepareOnnx, type ImportOptions } from './onnx-import';
import { backgroundFirst, findLabels, fitted, NUMBERED_NOTE, readLabelFile } from './label-files';
import { entryByteLength, MAX_MODEL_JSON_BYTES, modelFormatOf, type ModelFormat } from './model-files';
import type { ImportFile, PreparedModel } from './prepared-model';

/**
 * A user's model files (chosen, dropped, or in a .zip) → one checked tfjs model in
 * Glimpse's layout: model.json, weight shards with plain names, labels.json and a
 * metadata.json that says how to preprocess, inferred from what the files say.
 * Nothing here runs the model; the worker's trial inference does that.
 */

export const IMPORT_LIMITS = {
  /** All weights together, as model.json declares them (checked before any is read). */
  maxWeightBytes: 256 * 1024 * 1024,
  /** What a .zip may unpack to, by its own declared sizes. */
  maxUnzippedBytes: 300 * 1024 * 1024,
  maxFiles: 200,
  /** Entries in a .zip's directory, folders and skipped files included (checked before any is read). */
  maxZipEntries: 1000,
} as const;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const baseName = (path: string) => path.split('/').pop()!;

function parseJson(file: ImportFile): unknown {
  try {
    return JSON.parse(text(file.bytes));
  } catch {
    throw new ModelFormatError(`${file.name} is not valid JSON`);
  }
}

/** Photos, videos and sounds that come along when a whole folder is chosen: never part of a model. */
const MEDIA = /\.(jpe?g|png|gif|webp|bmp|heic|heif|avif|tiff?|svg|mp4|mov|m4v|webm|mkv|avi|mp3|wav|m4a|aac|flac|ogg)$/i;

/**
 * The chosen files worth reading, decided from names and sizes alone, before any is read: media
 * files are left out, and a file or a selection larger than any model could be is refused by
 * name (a 3 GB video chosen with a model's files used to be read in full first).
 */
export function importable<F extends { name: string; size: number }>(files: readonly F[]): F[] {
  const kept = files.filter((f) => !MEDIA.test(f.name));
  const cap = IMPORT_LIMITS.maxUnzippedBytes;
  const huge = kept.find((f) => f.size > cap);
  if (huge)
    throw new ModelFormatError(
      `${huge.name} is ${Math.round(huge.size / 1024 / 1024)} MB: no file of a model is over ${cap / 1024 / 1024} MB`,
    );
  const total = kept.reduce((sum, f) => sum + f.size, 0);
  if (total > cap)
    throw new ModelFormatError(
      `the chosen files hold ${Math.round(total / 1024 / 1024)} MB: a model is at most ${cap / 1024 / 1024} MB`,
    );
  return kept;
}

/** The model's files in a .zip (folders, dotfiles and macOS's __MACOSX left out), checked before anything is inflated. */
export function unzip(file: ImportFile): ImportFile[] {
  const keep = (path: string) =>
    !path.endsWith('/') && !baseName(path).startsWith('.') && !path.startsWith('__MACOSX/');
  return readZip(
    file.bytes,
    file.name,
    { maxEntries: IMPORT_LIMITS.maxZipEntries, maxBytes: IMPORT_LIMITS.maxUnzippedBytes },
    keep,
  ).map((entry) => ({ name: baseName(entry.path), bytes: entry.bytes }));
}

/** Every file given, zips unpacked, by plain file name; two files of one name are refused. */
function expand(files: readonly ImportFile[]): Map<string, ImportFile> {
  const all = files.flatMap((f) =>
    f.name.toLowerCase().endsWith('.zip') ? unzip(f) : [{ ...f, name: baseName(f.name) }],
  );
  if (all.length > IMPORT_LIMITS.maxFiles)
    throw new ModelFormatError(`${all.length} files: a model has at most ${IMPORT_LIMITS.maxFiles}`);
  const byName = new Map<string, ImportFile>();
  for (const file of all) {
    if (byName.has(file.name)) throw new ModelFormatError(`two files are named ${file.name}`);
    byName.set(file.name, file);
  }
  return byName;
}

/** Labels from a Teachable Machine metadata.json (unless the user chose a file), else a labels file of any name that fits the outputs. */
function readLabels(
  files: Map<string, ImportFile>,
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

/** What a .tflite's metadata says and the files appended to it, or why it could not be read. */
function tfliteMetadata(
  tflite: TfliteModel,
  file: ImportFile,
): { metadata: TfliteMetadata | null; embedded: Map<string, ImportFile>; note: string } {
  if (!tflite.metadata) return { metadata: null, embedded: new Map(), note: '' };
  let metadata: TfliteMetadata;
  try {
    metadata = readTfliteMetadata(tflite.metadata);
  } catch (error) {
    return {
      metadata: null,
      embedded: new Map(),
      note: `; its TFLite metadata could not be read (${(error as Error).message})`,
    };
  }
  const wanted = new Set([
    ...metadata.labelFiles.map((f) => f.name),
    ...(metadata.calibration ? [metadata.calibration.file] : []),
  ]);
  if (wanted.size === 0) return { metadata, embedded: new Map(), note: '' };
  try {
    const entries = readZip(
      file.bytes,
      file.name,
      { maxEntries: IMPORT_LIMITS.maxZipEntries, maxBytes: IMPORT_LIMITS.maxUnzippedBytes },
      (path) => wanted.has(path),
    );
    return { metadata, embedded: new Map(entries.map((e) => [e.path, { name: e.path, bytes: e.bytes }])), note: '' };
  } catch (error) {
    return {
      metadata,
      embedded: new Map(),
      note: `; the files packed in it could not be read (${(error as Error).message})`,
    };
  }
}

/** The publisher's words from the metadata, empty fields left out. */
function aboutFrom(metadata: TfliteMetadata | null): ModelAbout | undefined {
  if (!metadata) return undefined;
  const about: ModelAbout = {};
  for (const key of ['name', 'description', 'version', 'author', 'license'] as const) {
    const value = metadata[key].trim();
    if (value) about[key] = value;
  }
  if (metadata.scoreThreshold !== undefined && metadata.scoreThreshold > 0 && metadata.scoreThreshold < 1)
    about.scoreThreshold = metadata.scoreThreshold;
  return Object.keys(about).length > 0 ? about : undefined;
}

/**
 * A float input's range (and per-channel normalisation) from the metadata's (pixel − mean) / std;
 * else the input's value range from its Stats; null where the metadata says neither, or the input is
 * quantized (its quantization is exact).
 */
function normalizationOf(
  metadata: TfliteMetadata | null,
  input: TfliteTensor,
): { range: [number, number]; normalize?: { mean: number[]; std: number[] }; why: string } | null {
  const norm = metadata?.normalization;
  if (input.type !== 'float32') return null;
  // Without a normalisation, the input's stated value range is where pixels 0…255 go.
  if (!norm && metadata?.valueRange)
    return {
      range: metadata.valueRange,
      why: `from the TFLite metadata: the input's value range ${JSON.stringify(metadata.valueRange)}`,
    };
  if (!norm || norm.std.some((s) => s === 0)) return null;
  const why = `from the TFLite metadata: (pixel − ${norm.mean.join(', ')}) / ${norm.std.join(', ')}`;
  const same = (xs: number[]) => xs.every((x) => x === xs[0]);
  if (same(norm.mean) && same(norm.std))
    return { range: [(0 - norm.mean[0]!) / norm.std[0]!, (255 - norm.mean[0]!) / norm.std[0]!], why };
  if (norm.mean.length !== 3 || norm.std.length !== 3) return null;
  return { range: [0, 255], normalize: { mean: norm.mean, std: norm.std }, why };
}

/**
 * A .tflite classifier, converted with the project's own converter. Its labels: a file given
 * with it (by any name), else the label file its metadata names (in the app's language where the
 * model has one), else numbered; its preprocessing: the input's quantization, else the metadata's
 * normalisation, else [-1, 1].
 */
function prepareTflite(file: ImportFile, files: Map<string, ImportFile>, options: ImportOptions): PreparedModel {
  let tflite;
  try {
    tflite = readTflite(file.bytes);
  } catch (error) {
    throw new ModelFormatError(`${file.name} is not a TFLite flatbuffer (${(error as Error).message})`);
  }
  const classes = tflite.tensors[tflite.outputs[0]!]?.shape.at(-1) ?? 0;
  const { metadata, embedded, note } = tfliteMetadata(tflite, file);
  const beside = findLabels(files, classes, options.labels);
  const metadataFile = beside || !metadata ? null : labelFileFor(metadata, options.locale);
  const packed = metadataFile ? embedded.get(metadataFile) : undefined;
  const fromMetadata = packed ? fitted(readLabelFile(packed) ?? [], classes) : null;
  const labels = beside?.labels ?? fromMetadata ?? undefined;
  const labelNote = beside
    ? `labels from ${beside.file}`
    : fromMetadata
      ? `labels from its metadata (${metadataFile})`
      : NUMBERED_NOTE;
  const input = tflite.tensors[tflite.inputs[0]!];
  const normalization = input ? normalizationOf(metadata, input) : null;
  const name = file.name.replace(/\.tflite$/i, '');
  let converted;
  try {
    const background =
      !!labels && (labels.length === classes - 1 || (labels.length === classes && backgroundFirst(labels)));
    converted = convert(tflite, {
      name,
      source: file.name,
      ...(labels ? { labels, dropBackground: background } : {}),
      ...(normalization ? { range: normalization.range } : {}),
    });
  } catch (error) {
    throw new ModelFormatError(`${file.name}: ${(error as Error).message}`);
  }
  const shard = new Uint8Array(converted.weights.reduce((n, w) => n + w.bytes.byteLength, 0));
  let offset = 0;
  for (const w of converted.weights) {
    shard.set(w.bytes, offset);
    offset += w.bytes.byteLength;
  }
  const weightsManifest = [
    { paths: ['weights.bin'], weights: converted.weights.map(({ bytes: _, ...entry }) => entry) },
  ];
  const about = aboutFrom(metadata);
  const glimpseMetadata = converted.metadata as { input: Record<string, unknown> };
  if (normalization?.normalize) glimpseMetadata.input = { ...glimpseMetadata.input, ...normalization.normalize };
  const spec = parseModelSpec(glimpseMetadata);
  const preprocessing =
    normalization?.why ??
    (input && input.type !== 'float32'
      ? `from the TFLite input's quantization: ${JSON.stringify(spec.range)}`
      : `not stated in the file: assumed ${JSON.stringify(spec.range)}`);
  return {
    name,
    format: 'graph-model',
    source: file.name,
    spec,
    labels: converted.labels,
    ...(labels ? {} : { numbered: true }),
    ...(about ? { about } : {}),
    preprocessing: `${preprocessing}, whole image; ${labelNote}${note}`,
    // The .tflite itself is kept too: LiteRT runs it where that is faster than tfjs.
    files: {
      'model.json': json({ ...converted.modelJson, weightsManifest }),
      'weights.bin': shard,
      'metadata.json': json({ ...glimpseMetadata, ...(about ? { about } : {}) }),
      'labels.json': json(converted.labels),
      [TFLITE_FILE]: file.bytes,
    },
  };
}

/** The folder the files came in (a chosen folder's relative paths, or a .zip's name), which names an ONNX model. */
function folderOf(given: readonly ImportFile[]): string | null {
  const zip =
    given.length === 1 && given[0]!.name.toLowerCase().endsWith('.zip') ? baseName(given[0]!.name).slice(0, -4) : null;
  return zip || (given.find((f) => f.name.includes('/'))?.name.split('/')[0] ?? null);
}

export function prepareImport(chosen: readonly ImportFile[], options: ImportOptions = {}): PreparedModel {
  const files = expand(chosen);
  if ([...files.keys()].some((name) => name.toLowerCase().endsWith('.onnx')))
    return prepareOnnx(files, folderOf(chosen), options);
  const tflite = [...files.values()].find((f) => f.name.toLowerCase().endsWith('.tflite'));
  if (tflite) return prepareTflite(tflite, files, options);

  const modelFile =
    files.get('model.json') ??
    [...files.values()].find((f) => f.name.endsWith('.json') && !['metadata.json', 'labels.json'].includes(f.name));
  if (!modelFile) throw new ModelFormatError('no model.json, .tflite or .onnx file among the files');
  if (modelFile.bytes.byteLength > MAX_MODEL_JSON_BYTES)
    throw new ModelFormatError(`${modelFile.name} is over ${MAX_MODEL_JSON_BYTES / 1024 / 1024} MB`);
  const model = parseJson(modelFile) as tf.io.ModelJSON;
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
  const metadata = metadataFile ? (parseJson(metadataFile) as Record<string, any>) : null;

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
  out['model.json'] = json({ ...model, format, weightsManifest });
  out['metadata.json'] = json(glimpseMetadata);
  out['labels.json'] = json(labels);
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
