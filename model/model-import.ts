import { ModelFormatError } from '../src/core/errors';
import { readZip } from './zip-reader';
import { onnxReader } from './onnx-import';
import { tfliteReader } from './tflite-import';
import { tfjsReader } from './tfjs-import';
import {
  baseName,
  IMPORT_LIMITS,
  type FormatReader,
  type ImportFile,
  type ImportOptions,
  type PreparedModel,
} from './prepared-model';

/**
 * A user's model files (chosen, dropped, or in a .zip) → one checked model in Glimpse's layout,
 * by the reader of their format (ONNX, TFLite, TF.js / Teachable Machine), which settles its
 * graph, labels and preprocessing in one pass. Nothing here runs the model; the worker's trial
 * inference does that.
 */

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

/** The formats in the order they are recognised: a folder with an .onnx is an ONNX model whatever else it holds. */
const READERS: readonly FormatReader[] = [onnxReader, tfliteReader, tfjsReader];

export function prepareImport(chosen: readonly ImportFile[], options: ImportOptions = {}): PreparedModel {
  const files = expand(chosen);
  const reader = READERS.find((r) => r.claims(files));
  if (!reader) throw new ModelFormatError('no model.json, .tflite or .onnx file among the files');
  return reader.prepare(files, chosen, options);
}
