import { transfer, wrap, type Remote } from 'comlink';
import { STUDENTS, type StudentName } from '../core/students';
import { ModelFormatError } from '../core/errors';
import type { ImportApi } from '../../workers/import-api';
import type { PreparedModel } from '../../model/prepared-model';
import type { ImportOptions } from '../../model/prepared-model';
import { RunWatchdog, trialError } from './run-watchdog';

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
async function inImportWorker(
  read: (api: Remote<ImportApi>, watch: MessagePort) => Promise<PreparedModel>,
): Promise<PreparedModel> {
  const worker = new Worker(new URL('../../workers/import.worker.ts', import.meta.url), {
    type: 'module',
    name: 'glimpse-import',
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unreadable = (why: string) => new ModelFormatError(`this model file could not be read: ${why}`);
  const runs = new MessageChannel();
  let watchdog: RunWatchdog | undefined;
  const lost = new Promise<never>((_, fail) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      fail(unreadable(event.message || 'its reader stopped'));
    });
    worker.addEventListener('messageerror', () => fail(unreadable('its reader sent back something unreadable')));
    timer = setTimeout(
      () => fail(unreadable(`its reader did not finish in ${IMPORT_TIMEOUT_MS / 1000} s`)),
      IMPORT_TIMEOUT_MS,
    );
    // The trial's runs (an ONNX model's) under the same budget as every model run.
    watchdog = new RunWatchdog(runs.port1, (trip) => fail(trialError(trip)));
  });
  try {
    return await Promise.race([read(wrap<ImportApi>(worker), transfer(runs.port2, [runs.port2])), lost]);
  } finally {
    clearTimeout(timer);
    watchdog?.dispose();
    worker.terminate();
  }
}

export function prepareModelFiles(files: readonly File[], options: ImportOptions = {}): Promise<PreparedModel> {
  // A chosen folder's relative paths name the model (an ONNX folder's name is its model's).
  const named = files.map((f) => ({ name: f.webkitRelativePath || f.name, data: f }));
  return inImportWorker((api, watch) => api.prepare(named, options, watch));
}

/** A distillation student (public/students), fetched, checked against its digest, kept for offline use and converted, in the import worker. */
export function prepareStudent(name: StudentName): Promise<PreparedModel> {
  const url = new URL(`${import.meta.env.BASE_URL}students/${STUDENTS[name].file}`, location.href).href;
  return inImportWorker((api) => api.prepareStudent(url, STUDENTS[name].sha256));
}
