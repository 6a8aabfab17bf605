import type { ModelAbout, ModelCheck } from '../src/core/classifier-types';
import type { ModelSpec } from '../src/core/model-spec';
import { ModelFormatError } from '../src/core/errors';
import type { OnnxPreset } from '../src/core/onnx-presets';
import type { ModelFormat } from './model-files';

/** What an import reads (a user's files) and what it hands back (one prepared model), for every format's reader. */

export interface ImportFile {
  name: string;
  bytes: Uint8Array;
}

export interface PreparedModel {
  name: string;
  format: ModelFormat;
  /** The file(s) the user gave, for the model list. */
  source: string;
  spec: ModelSpec;
  labels: string[];
  /** How the preprocessing was decided, in words. */
  preprocessing: string;
  /** An ONNX model's .onnx files when several were given: the one taken first, the others to switch to. */
  variants?: string[];
  /** No labels came with it: its classes are numbered (the user is told, and can add labels later). */
  numbered?: boolean;
  /** What its publisher says of it. */
  about?: ModelAbout;
  /** The runtime check at import (a converted .tflite against LiteRT). */
  check?: ModelCheck;
  /** Glimpse's files for the model store: model.json, shards, metadata.json, labels.json. */
  files: Record<string, Uint8Array>;
}

/** What the user settled for an import, in the Models view or by choosing again. */
export interface ImportOptions {
  /** Which .onnx of several to take (a file name); the quantized one by default. */
  variant?: string;
  /** Preprocessing for a model whose files do not state it. */
  preset?: OnnxPreset;
  /** The file that holds the labels, where several could (LabelsChoiceError). */
  labels?: string;
  /** The app's language, for a TFLite model's localized label files. */
  locale?: string;
}

/**
 * One format's reader: whether the files given are in its format, and, in one pass, the model
 * they make — its graph checked, its labels found, its preprocessing decided — ready to store.
 */
export interface FormatReader {
  claims(files: ReadonlyMap<string, ImportFile>): boolean;
  /** `files`: every file by plain name, zips unpacked; `chosen`: as the user gave them (folder paths, a .zip's name). */
  prepare(files: ReadonlyMap<string, ImportFile>, chosen: readonly ImportFile[], options: ImportOptions): PreparedModel;
}

export const IMPORT_LIMITS = {
  /** All weights together, as model.json declares them (checked before any is read). */
  maxWeightBytes: 256 * 1024 * 1024,
  /** What a .zip may unpack to, by its own declared sizes. */
  maxUnzippedBytes: 300 * 1024 * 1024,
  maxFiles: 200,
  /** Entries in a .zip's directory, folders and skipped files included (checked before any is read). */
  maxZipEntries: 1000,
} as const;

export const jsonBytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
export const baseName = (path: string) => path.split('/').pop()!;

/** A file's JSON, or a ModelFormatError naming it. */
export function parseJsonFile(file: ImportFile): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(file.bytes));
  } catch {
    throw new ModelFormatError(`${file.name} is not valid JSON`);
  }
}
