/// <reference path="../src/core/build-constants.d.ts" />
import {
  BUILTIN_MODEL,
  TRIAL_MODEL,
  type ImportStep,
  type ModelCheck,
  type InputCorrection,
  type ModelInfo,
  type StoredModel,
} from '../src/core/classifier-types';
import { BadRequestError, ModelFormatError, ModelLoadError } from '../src/core/errors';
import type { PreparedModel } from '../model/prepared-model';
import { labelsFor, NUMBERED_NOTE } from '../model/label-files';
import { MANIFEST_FILE, parseModelManifest, TFLITE_FILE } from '../src/core/model-manifest';
import { parseLabels, parseModelSpec } from '../src/core/model-spec';
import { compareRuntimes, probeImages, trialModel, type RuntimeCheck } from '../src/core/model-trial';
import { classProbabilities } from '../src/core/predictions';
import { Engine } from '../model/engine';
import { fetchModelFiles, type ModelFiles } from '../model/model-files';
import { deleteModel as deleteStored, listModels, saveModel, setActiveModel, storedFiles } from './model-store';
import { recordFetcher, withManifest } from '../model/model-records';
import {
  activeId,
  builtinUrl,
  currentInfo,
  engine,
  forgetProblem,
  newEngine,
  run,
  shipsWithSite,
  useModel,
  watchFor,
} from './active-model';

/**
 * The user's own models: importing one the import worker prepared (tried, checked against its own
 * runtime, stored, made active), correcting or relabelling a stored one, deleting one. State: none
 * of its own; the store is IndexedDB's (model-store.ts) and the active model active-model.ts's.
 */

/**
 * Imports a model the import worker prepared from the user's files (workers/import-api.ts):
 * verified like any model's files, run once on a blank image (its output must be one number
 * per label), then stored and made active. Any failure leaves the current model running and
 * nothing stored.
 */
export async function importModel(
  prepared: PreparedModel,
  sourceName: string,
  onStep?: (step: ImportStep) => void,
): Promise<ModelInfo> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  const step = (name: ImportStep) => void Promise.resolve(onStep?.(name)).catch(() => undefined);
  step('trial');
  let modelFiles = await importedFiles(prepared);
  const watch = watchFor(TRIAL_MODEL);
  let trial = newEngine(modelFiles, watch);
  const backend = engine.backend ?? 'wasm';
  try {
    const outputs = await trialModel(
      (pixels) => trial.trialRun(backend, pixels),
      modelFiles.spec,
      modelFiles.labels.length,
      modelFiles.spec.classOffset,
    );
    // A .tflite's converted copy answers for the file only where it agrees with LiteRT running the file itself.
    if (modelFiles.format === 'graph-model' && modelFiles.tflite) {
      step('check');
      const check = await checkAgainstLiteRt(trial, outputs);
      prepared = { ...prepared, check };
      if ('agreed' in check && !check.agreed) {
        trial.dispose();
        prepared = liteRtOnly(prepared, check);
        modelFiles = await importedFiles(prepared);
        trial = newEngine(modelFiles, watch);
      }
    }
  } catch (error) {
    trial.dispose();
    if (['ModelFormatError', 'ModelMemoryError'].includes((error as Error).name)) throw error;
    throw new ModelFormatError(`the model could not run: ${(error as Error).message}`);
  }
  step('storing');
  const stored = await saveModel(prepared, sourceName).catch((error: unknown) => {
    trial.dispose();
    throw error;
  });
  watch.model = stored.id;
  step('warming');
  const info = await run(modelFiles, stored.id, trial);
  await setActiveModel(stored.id);
  return info;
}

/** A prepared model's files as the verified loader reads them, before they are stored. */
export async function importedFiles(prepared: PreparedModel): Promise<ModelFiles> {
  return fetchModelFiles(
    `${self.location.origin}/import/`,
    () => undefined,
    recordFetcher(await withManifest(prepared.files)),
  );
}

/**
 * The trial's images on LiteRT, running the .tflite itself, against the converted graph's answers
 * (`converted`), as class probabilities. LiteRT stays built for the backend choice that follows. A
 * file LiteRT cannot run is not checked, and says why; a run that hangs or fills memory fails the import.
 */
async function checkAgainstLiteRt(trial: Engine, converted: readonly Float32Array[]): Promise<ModelCheck> {
  const { spec, labels } = trial.files;
  const original: Float32Array[] = [];
  try {
    await trial.prepare('litert');
    for (const probe of probeImages(spec)) original.push(await trial.runOn('litert', probe));
  } catch (error) {
    if (['ModelTimeoutError', 'ModelMemoryError'].includes((error as Error).name)) throw error;
    return { runtime: 'LiteRT', skipped: (error as Error).message };
  }
  const probabilities = (output: Float32Array) =>
    classProbabilities(output, labels.length, spec.classOffset, spec.outputIsLogits);
  return compareRuntimes('LiteRT', converted.map(probabilities), original.map(probabilities));
}

/** The model as its .tflite alone, for LiteRT: the converted graph that disagreed with it is not kept. */
function liteRtOnly(prepared: PreparedModel, check: RuntimeCheck): PreparedModel {
  const metadata = JSON.parse(new TextDecoder().decode(prepared.files['metadata.json'])) as Record<string, unknown>;
  delete metadata.features;
  const files = {
    [TFLITE_FILE]: prepared.files[TFLITE_FILE]!,
    'metadata.json': new TextEncoder().encode(JSON.stringify({ ...metadata, format: 'tflite' })),
    'labels.json': prepared.files['labels.json']!,
  };
  const why = `its converted copy differed from LiteRT by up to ${(100 * check.largest).toFixed(1)} points on the ${check.probes} test images, so it runs on LiteRT only`;
  return { ...prepared, format: 'tflite', preprocessing: `${prepared.preprocessing}; ${why}`, files };
}

/** Changes how a stored model's images are prepared (range, fit, crop, mean and std); it is stored anew. */
export async function correctModel(id: string, correction: InputCorrection): Promise<ModelInfo> {
  const { files, entry } = await storedModel(id);
  const metadata = JSON.parse(new TextDecoder().decode(files['metadata.json'])) as { input: Record<string, unknown> };
  const { normalize, color, ...input } = correction;
  metadata.input = { ...metadata.input, ...input };
  // A grey-scale model has one channel: there is no order to change.
  if (color && parseModelSpec(metadata).color !== 'grayscale') metadata.input.color = color;
  if (normalize === null) {
    delete metadata.input.mean;
    delete metadata.input.std;
  } else if (normalize) metadata.input = { ...metadata.input, mean: normalize.mean, std: normalize.std };
  const spec = parseModelSpec(metadata);
  const { [MANIFEST_FILE]: _, ...kept } = files;
  const updated = { ...kept, 'metadata.json': new TextEncoder().encode(JSON.stringify(metadata)) };
  const labels = parseLabels(JSON.parse(new TextDecoder().decode(files['labels.json'])));
  return restore(id, { ...described(entry), spec, labels, preprocessing: 'corrected by hand', files: updated });
}

/** A stored model's files and its list entry. */
async function storedModel(id: string): Promise<{ files: Record<string, Uint8Array>; entry: StoredModel }> {
  const files = await storedFiles(id);
  const entry = (await listModels()).find((m) => m.id === id);
  if (!files || !entry) throw new ModelLoadError(`no stored model ${id}`);
  return { files, entry };
}

/** What a stored model's list entry keeps of how it was imported. */
function described(
  entry: StoredModel,
): Pick<PreparedModel, 'name' | 'format' | 'source' | 'numbered' | 'about' | 'check'> {
  return {
    name: entry.name,
    format: entry.format,
    source: entry.source,
    ...(entry.numbered ? { numbered: true } : {}),
    ...(entry.about ? { about: entry.about } : {}),
    ...(entry.check ? { check: entry.check } : {}),
  };
}

/** Stores a changed model in place of the old one (its id is its files' version), active again if it was. */
async function restore(id: string, prepared: PreparedModel): Promise<ModelInfo> {
  const stored = await saveModel(prepared, prepared.source);
  const wasActive = activeId === id;
  if (stored.id !== id) await deleteStored(id);
  return wasActive || activeId === stored.id ? useModel(stored.id) : currentInfo();
}

/** Gives a stored model that came without labels (or with wrong ones) the labels in one file, checked against its classes. */
export async function relabelModel(id: string, file: { name: string; bytes: Uint8Array }): Promise<ModelInfo> {
  const { files, entry } = await storedModel(id);
  const labels = labelsFor(file, entry.classes);
  const spec = parseModelSpec(JSON.parse(new TextDecoder().decode(files['metadata.json'])));
  const { [MANIFEST_FILE]: _, ...kept } = files;
  const { numbered: __, ...rest } = described(entry);
  return restore(id, {
    ...rest,
    spec,
    labels,
    preprocessing: `${entry.preprocessing
      .split('; ')
      .filter((part) => !part.startsWith(NUMBERED_NOTE))
      .join('; ')}; labels from ${file.name}`,
    files: { ...kept, 'labels.json': new TextEncoder().encode(JSON.stringify(labels)) },
  });
}

export async function deleteModel(id: string): Promise<ModelInfo> {
  if (shipsWithSite(id)) throw new BadRequestError('a model shipped with the site cannot be deleted');
  if (activeId === id) await useModel(BUILTIN_MODEL);
  await deleteStored(id);
  forgetProblem(id);
  return currentInfo();
}

/** A stored model's files as a .zip in Glimpse's layout (manifest included), for `npm run build -- --model` or another browser. */
export async function exportModel(id: string): Promise<Uint8Array> {
  const { files } = await storedModel(id);
  const { zipSync } = await import('fflate');
  return zipSync(files);
}

/** What a model downloads: a stored model's bytes; a served one's files, but the .tflite only LiteRT fetches. Null where unknown. */
export async function modelBytes(id: string): Promise<number | null> {
  if (!shipsWithSite(id)) return (await listModels()).find((m) => m.id === id)?.bytes ?? null;
  const base = new URL(id === BUILTIN_MODEL ? builtinUrl : `../models/${id}/`, new URL(builtinUrl, self.location.href));
  const response = await fetch(new URL(MANIFEST_FILE, base)).catch(() => null);
  if (!response?.ok) return null;
  const manifest = parseModelManifest(await response.json());
  return Object.entries(manifest.files).reduce((sum, [name, f]) => sum + (name === TFLITE_FILE ? 0 : f.bytes), 0);
}

export async function models(): Promise<StoredModel[]> {
  return listModels();
}
