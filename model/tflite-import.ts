import type { ModelAbout } from '../src/core/classifier-types';
import { ModelFormatError } from '../src/core/errors';
import { TFLITE_FILE } from '../src/core/model-manifest';
import { parseModelSpec } from '../src/core/model-spec';
import { convert } from '../src/core/tflite/convert';
import { labelFileFor, readTfliteMetadata, type TfliteMetadata } from '../src/core/tflite/metadata';
import { readTflite, type TfliteModel, type TfliteTensor } from '../src/core/tflite/reader';
import { readZip } from './zip-reader';
import { backgroundFirst, findLabels, fitted, NUMBERED_NOTE, readLabelFile } from './label-files';
import {
  IMPORT_LIMITS,
  jsonBytes,
  type FormatReader,
  type ImportFile,
  type ImportOptions,
  type PreparedModel,
} from './prepared-model';

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
function prepareTflite(
  file: ImportFile,
  files: ReadonlyMap<string, ImportFile>,
  options: ImportOptions,
): PreparedModel {
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
      'model.json': jsonBytes({ ...converted.modelJson, weightsManifest }),
      'weights.bin': shard,
      'metadata.json': jsonBytes({ ...glimpseMetadata, ...(about ? { about } : {}) }),
      'labels.json': jsonBytes(converted.labels),
      [TFLITE_FILE]: file.bytes,
    },
  };
}

const tfliteFile = (files: ReadonlyMap<string, ImportFile>) =>
  [...files.values()].find((f) => f.name.toLowerCase().endsWith('.tflite'));

/** A .tflite (the first given): converted to a tfjs graph, and kept for LiteRT. */
export const tfliteReader: FormatReader = {
  claims: (files) => tfliteFile(files) !== undefined,
  prepare: (files, _chosen, options) => prepareTflite(tfliteFile(files)!, files, options),
};
