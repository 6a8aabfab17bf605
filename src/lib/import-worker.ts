import { wrap } from 'comlink';
import { ModelFormatError } from '../core/errors';
import type { ImportApi } from '../../workers/import-api';
import type { PreparedModel } from '../../workers/model-import';
import type { OnnxImportOptions } from '../../workers/onnx-import';

/** How long reading one model may take before its worker is given up for hung: a 256 MB model takes seconds. */
export const IMPORT_TIMEOUT_MS = 120_000;

/**
 * Reads, checks and converts the user's model files in a worker started for this import and
 * ended after it (workers/import-api.ts): the classifier worker keeps answering meanwhile,
 * its heap never holds the files, and a reader that throws, dies or hangs ends in "could not
 * be read" with the model the user had still running. (A worker's out-of-memory crash is
 * another matter: Chromium then ends the whole tab, shared workers included, so the reader
 * bounds every count by the bytes present instead: src/core/tflite/reader.ts.)
 */
export async function prepareModelFiles(files: readonly File[], options: OnnxImportOptions = {}): Promise<PreparedModel> {
  const worker = new Worker(new URL('../../workers/import.worker.ts', import.meta.url), { type: 'module', name: 'glimpse-import' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unreadable = (why: string) => new ModelFormatError(`this model file could not be read: ${why}`);
  const lost = new Promise<never>((_, fail) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      fail(unreadable(event.message || 'its reader stopped'));
    });
    worker.addEventListener('messageerror', () => fail(unreadable('its reader sent back something unreadable')));
    timer = setTimeout(() => fail(unreadable(`its reader did not finish in ${IMPORT_TIMEOUT_MS / 1000} s`)), IMPORT_TIMEOUT_MS);
  });
  try {
    // A chosen folder's relative paths name the model (an ONNX folder's name is its model's).
    return await Promise.race([wrap<ImportApi>(worker).prepare(files.map((f) => ({ name: f.webkitRelativePath || f.name, data: f })), options), lost]);
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}
