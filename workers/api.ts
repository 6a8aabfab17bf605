/// <reference path="../src/core/build-constants.d.ts" />
import { isBackendName, isOnnxBackend, type BackendPreference } from '../src/core/backends';
import * as tf from '@tensorflow/tfjs-core';
import {
  BUILTIN_MODEL,
  TRAINED_SOURCE,
  TRIAL_MODEL,
  type ClassifyResult,
  type FeatureSource,
  type ImportStep,
  type ModelCheck,
  type InputCorrection,
  type LoadOptions,
  type LoadProgress,
  type ModelInfo,
  type StoredModel,
  type TrainEvent,
  type TrainImageInput,
  type TrainSummary,
  type WorkerDiagnostics,
} from '../src/core/classifier-types';
import {
  BadRequestError,
  CancelledError,
  CorruptImageError,
  errorNameOf,
  ModelFormatError,
  ModelLoadError,
} from '../src/core/errors';
import { inspectImage } from '../src/core/image-header';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../src/core/train-options';
import type { HeadStorage } from '../model/trained-model';
import type { PreparedModel } from '../model/model-import';
import { labelsFor, NUMBERED_NOTE } from '../model/label-files';
import { MANIFEST_FILE, modelFileUrl, sha256Hex, TFLITE_FILE } from '../src/core/model-manifest';
import { parseLabels, parseModelSpec } from '../src/core/model-spec';
import { compareRuntimes, probeImages, trialModel, type RuntimeCheck } from '../src/core/model-trial';
import { classProbabilities } from '../src/core/predictions';
import { BackendSelector } from './backend-selector';
import { activate, probeGpus } from './backends';
import { deviceMemory } from './choice-memory';
import {
  Engine,
  tfjsBackend,
  tfjsBytesOutsideWasm,
  tfjsMemory,
  type OnnxRunnerFactory,
  type RunnerFactory,
} from '../model/engine';
import { PortRunWatch } from './run-watch';
import { fetchModelFiles, type ModelFiles } from '../model/model-files';
import { keep } from './kept-files';
import { startLiteRtDownload } from './litert-wasm';
import {
  activeModel,
  deleteModel as deleteStored,
  listModels,
  saveModel,
  setActiveModel,
  storedFetcher,
  storedFiles,
} from './model-store';
import { recordFetcher, withManifest } from '../model/model-records';
import { bitmapToPixels } from './pixels';
import { FeatureCache } from './feature-cache';
import type { Heatmap } from '../src/core/occlusion';
import { storedTemperature, storeTemperature } from './calibration-store';
import { isTemperature, TEMPERATURE_RANGE } from '../src/core/calibration';
import { trainingViews, viewKey } from '../src/core/augmentation';

/**
 * The classifier worker's API, exposed with comlink: load the active model (verified),
 * classify transferred bitmaps, switch backend, and import, choose and delete the user's
 * own models. The backend choice itself is BackendSelector's. Importing and training load
 * their code (the TFLite converter, zip, the trainer) when first used: the worker compiles
 * less before a first visit's first answer.
 */

let engine: Engine | null = null;
let selector: BackendSelector | null = null;
let loading: Promise<ModelInfo> | null = null;
let notify: (event: LoadProgress) => void = () => undefined;
let builtinUrl = '';
let preference: BackendPreference = 'auto';
let activeId = BUILTIN_MODEL;
/** A stored model that was active but could not be loaded, or that the watchdog stopped; the built-in one runs instead. */
let problem: ModelInfo['problem'] = null;
/** Whose features training uses while the active model runs (see featureSource). */
let features: FeatureSource = 'own';
/** Where every model run is told to the page's watchdog (src/lib/run-watchdog.ts). */
let watchPort: MessagePort | null = null;

/** A watch for one model's runs: the page's watchdog ends this worker when one hangs or fills memory. */
function watchFor(model: string): PortRunWatch {
  return new PortRunWatch(watchPort, model, tfjsBytesOutsideWasm);
}

/** The built-in model and the models the site ships: served, never stored. */
function shipsWithSite(id: string): boolean {
  return id === BUILTIN_MODEL || __GLIMPSE_SHIPPED_MODELS__.some((m) => m.id === id);
}

function currentInfo(): ModelInfo {
  const choice = selector?.choice;
  if (!engine || !choice) throw new ModelLoadError('the model is not loaded');
  const { spec, labels, version } = engine.files;
  return {
    model: {
      id: activeId,
      name: spec.name,
      version,
      classes: labels.length,
      inputSize: spec.inputSize,
      range: spec.range,
      fit: spec.fit,
      crop: spec.centralCrop,
      normalize: spec.normalize ?? null,
      temperature: engine.temperature,
      features,
      color: spec.color ?? 'rgb',
    },
    backend: choice.backend,
    choice,
    problem,
  };
}

function checkPreference(value: BackendPreference): void {
  if (value !== 'auto' && !isBackendName(value)) throw new BadRequestError(`unknown backend "${String(value)}"`);
}

/** A model's files, each checked against its manifest: the built-in one from the server, the user's from the store. */
async function openModel(
  id: string,
  onDownload = (p: { loaded: number; total: number }) => notify({ phase: 'download', ...p }),
): Promise<ModelFiles> {
  if (id === BUILTIN_MODEL)
    return keepingTflite(
      await fetchModelFiles(builtinUrl, onDownload, undefined, __GLIMPSE_MODEL_MANIFEST_SHA256__),
      builtinUrl,
    );
  const shipped = __GLIMPSE_SHIPPED_MODELS__.find((m) => m.id === id);
  if (shipped) {
    const base = new URL(`../models/${id}/`, new URL(builtinUrl, self.location.href)).href;
    return keepingTflite(await fetchModelFiles(base, onDownload, undefined, shipped.manifestSha256), base);
  }
  return fetchModelFiles(`${self.location.origin}/imported/${id}/`, onDownload, await storedFetcher(id));
}

/** A served model's .tflite, once verified, is kept for the service worker to answer offline. */
function keepingTflite(files: ModelFiles, base: string): ModelFiles {
  const { tflite } = files;
  if (!tflite) return files;
  const url = modelFileUrl(TFLITE_FILE, files.version, new URL(base, self.location.href));
  // Not waited for, as LiteRT's wasm is not (workers/litert.ts).
  return {
    ...files,
    tflite: async () =>
      tflite().then((bytes) => (void keep(url, bytes as Uint8Array<ArrayBuffer>, 'application/octet-stream'), bytes)),
  };
}

/**
 * LiteRT.js and its glue are a chunk of their own, loaded only when LiteRT is tried. Its wasm
 * (9 MB), that chunk and the .tflite download at once, and the runtime starts as soon as the
 * chunk is in: on a worker busy with photos each step waits for the photo running, and in turn
 * they took 2 s longer. A .tflite that LiteRT then refuses (int8 tensors) has cost the wasm's
 * download for nothing.
 */
const liteRt: RunnerFactory = async (files, outputs) => {
  startLiteRtDownload();
  const started = import('./litert').then((chunk) => (chunk.startRuntime().catch(() => undefined), chunk));
  const [{ LiteRtRunner }, tflite] = await Promise.all([started, files.tflite!()]);
  return LiteRtRunner.create(tflite, files.spec, outputs);
};

/** ONNX Runtime Web is a chunk of its own too, loaded only when an ONNX model runs. */
const onnx: OnnxRunnerFactory = async (bytes, spec, backend, external) =>
  (await import('./onnx')).createOnnxRunner(bytes, spec, backend, external);

/** Runs `files` from now on: warmed up on the chosen backend before the previous model is let go. */
async function run(files: ModelFiles, id: string, warmed?: Engine): Promise<ModelInfo> {
  const next = warmed ?? new Engine(files, activate, liteRt, onnx, watchFor(id));
  // Read from storage while the backend starts: the model answers only once both are done.
  const temperature = storedTemperature(files.version);
  const nextSelector = new BackendSelector({
    engine: next,
    probe: probeGpus,
    memory: (probes) => deviceMemory(files.spec.name, probes),
    warming: (backend) => notify({ phase: 'warmup', backend }),
    notify: () => notify({ phase: 'ready', info: currentInfo() }),
  });
  await nextSelector.start(preference);
  next.temperature = (await temperature) ?? files.spec.temperature ?? 1;
  // Only a stored model can have been trained here; the built-in and shipped ones never touch storage (the embed frame has none to spare).
  const trainedHere = !shipsWithSite(id) && (await listModels()).find((m) => m.id === id)?.source === TRAINED_SOURCE;
  if (engine !== next) engine?.dispose();
  [engine, selector, activeId, features] = [next, nextSelector, id, featureSource(files, id, trainedHere)];
  const info = currentInfo();
  notify({ phase: 'ready', info });
  return info;
}

/**
 * Loads the active model (or `options.model` for this page). `watch` is the port the page's
 * watchdog hears every run on; `options.failed` names a model it stopped, which stops being the
 * active one (the built-in one runs, and `problem` says why) until the user chooses it again;
 * `options.use` makes a model the active one first, as choosing it does.
 */
async function load(
  url: string,
  onProgress: (event: LoadProgress) => void,
  options: LoadOptions = {},
  watch: MessagePort | null = null,
): Promise<ModelInfo> {
  notify = (event) => void Promise.resolve(onProgress(event)).catch(() => undefined);
  preference = options.backend ?? 'auto';
  checkPreference(preference);
  builtinUrl = url;
  watchPort ??= watch;
  loading ??= (async () => {
    if (options.model && !shipsWithSite(options.model))
      throw new BadRequestError(`this site ships no model "${options.model}"`);
    if (options.failed) {
      problem = {
        id: String(options.failed.id),
        error: String(options.failed.error),
        message: String(options.failed.message),
      };
      if ((await activeModel()) === options.failed.id) await setActiveModel(BUILTIN_MODEL);
    }
    if (options.use) await setActiveModel(options.use);
    // Starting the backend overlaps with the download.
    const starting =
      preference === 'litert' || (preference !== 'auto' && isOnnxBackend(preference))
        ? Promise.resolve(false)
        : activate(preference === 'auto' ? 'wasm' : preference);
    // Most visits run the built-in model: its files are fetched and checked while storage says
    // which model is active (15–27 ms on an idle fresh profile, 270–380 ms amid a first visit's
    // start-up); their progress is told once it is the one.
    let told: ((p: { loaded: number; total: number }) => void) | null = null;
    let last: { loaded: number; total: number } | null = null;
    const builtin = options.model ? null : openModel(BUILTIN_MODEL, (p) => (told ? told(p) : (last = p)));
    builtin?.catch(() => undefined);
    const useBuiltin = () => {
      told = (p) => notify({ phase: 'download', ...p });
      if (last) told(last);
      return builtin ?? openModel(BUILTIN_MODEL);
    };
    const wanted = options.model ?? (await activeModel());
    let files: ModelFiles | null = null;
    let id = wanted;
    if (wanted !== BUILTIN_MODEL) {
      try {
        files = await openModel(wanted);
      } catch (error) {
        problem = { id: wanted, error: errorNameOf(error), message: (error as Error).message };
        id = BUILTIN_MODEL;
      }
    }
    [files] = await Promise.all([files ?? useBuiltin(), starting]);
    return run(files, id);
  })().catch((error: unknown) => {
    // A failed load is forgotten so that a retry starts afresh.
    loading = null;
    engine?.dispose();
    engine = null;
    selector = null;
    throw error;
  });
  return loading;
}

/** Switches to the built-in model or a stored one, and remembers the choice. */
async function useModel(id: string): Promise<ModelInfo> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  await run(await openModel(id), id);
  if (problem?.id === id) problem = null;
  await setActiveModel(id);
  return currentInfo();
}

/**
 * Imports a model the import worker prepared from the user's files (workers/import-api.ts):
 * verified like any model's files, run once on a blank image (its output must be one number
 * per label), then stored and made active. Any failure leaves the current model running and
 * nothing stored.
 */
async function importModel(
  prepared: PreparedModel,
  sourceName: string,
  onStep?: (step: ImportStep) => void,
): Promise<ModelInfo> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  const step = (name: ImportStep) => void Promise.resolve(onStep?.(name)).catch(() => undefined);
  step('trial');
  let modelFiles = await importedFiles(prepared);
  const watch = watchFor(TRIAL_MODEL);
  let trial = new Engine(modelFiles, activate, liteRt, onnx, watch);
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
        trial = new Engine(modelFiles, activate, liteRt, onnx, watch);
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
async function importedFiles(prepared: PreparedModel): Promise<ModelFiles> {
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
async function correctModel(id: string, correction: InputCorrection): Promise<ModelInfo> {
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
async function relabelModel(id: string, file: { name: string; bytes: Uint8Array }): Promise<ModelInfo> {
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

async function deleteModel(id: string): Promise<ModelInfo> {
  if (shipsWithSite(id)) throw new BadRequestError('a model shipped with the site cannot be deleted');
  if (activeId === id) await useModel(BUILTIN_MODEL);
  await deleteStored(id);
  if (problem?.id === id) problem = null;
  return currentInfo();
}

async function models(): Promise<StoredModel[]> {
  return listModels();
}

/** The built-in model, which training extracts features with: the running engine when it is active. */
let baseForTraining: Engine | null = null;
/** Features by base model, image content (sha256) and view, so adding images does not recompute the others. */
const featureCache = new FeatureCache();
let trained: {
  files: Record<string, Uint8Array>;
  name: string;
  labels: string[];
  rebuild: (storage: HeadStorage) => Record<string, Uint8Array>;
} | null = null;
let stopTraining = false;

/**
 * Whose features training uses while a model is active: its own where it can give them (the
 * built-in model, an imported tfjs graph that names its feature layer, a converted TFLite); the
 * built-in model's for a model trained here (they are its features: the cache is shared) and for
 * one that cannot (ONNX and LiteRT-only models, layers models).
 */
function featureSource(files: ModelFiles, id: string, trainedHere: boolean): FeatureSource {
  if (id === BUILTIN_MODEL) return 'own';
  if (trainedHere) return 'base';
  return files.format === 'graph-model' && files.spec.features ? 'own' : 'builtin';
}

/** The engine training reads features from (featureSource), on tfjs's side of whatever backend runs now (ONNX Runtime or LiteRT cannot run a tfjs graph). */
async function featureEngine(): Promise<Engine> {
  if (engine && features === 'own') return engine;
  if (!baseForTraining) {
    const files = await openModel(BUILTIN_MODEL);
    const backend = tfjsBackend(engine?.backend ?? 'wasm');
    baseForTraining = new Engine(files, activate, undefined, undefined, watchFor(BUILTIN_MODEL));
    await baseForTraining.prepare(backend);
    await baseForTraining.select(backend);
  }
  return baseForTraining;
}

/** The next run's images, sent a slice at a time (`first` starts a new set). */
let staged: TrainImageInput[] = [];
function stageTraining(images: TrainImageInput[], first: boolean): void {
  if (first) staged = [];
  staged.push(...images);
}

/** A photo's bytes, once they passed the page's checks: a run may start before the page has checked every photo of a large folder. */
async function checkedBytes(data: Blob): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(await data.arrayBuffer());
  inspectImage(bytes);
  return bytes;
}

/** A photo's decoded bitmap, started early so that decoding the next photo overlaps the model's run on this one. */
function decodeTrainingImage(data: Blob): Promise<ImageBitmap> {
  return createImageBitmap(data, { imageOrientation: 'from-image' }).catch(() => {
    throw new CorruptImageError('the browser could not decode this image');
  });
}

/**
 * Trains a classifier on the user's labelled images: the built-in model's pooled features
 * (cached by image content, and on disk when `keepFeatures`), then a softmax head with a
 * seeded, stratified validation split, or (method `nearest`) a nearest-neighbour classifier
 * on the same features, checked by leave-one-out. Augmentation adds views (mirror, crop) of
 * the training images only: validation stays the user's own images. One photo is decoded
 * at a time (and the next while the model runs): features and their keys are all a run keeps.
 * The images are the staged ones (stageTraining); an image's `key` from an earlier run's summary
 * spares reading it again when its features are known.
 * The result waits for `useTrained` or `exportTrained`.
 */
async function train(
  options: Partial<TrainOptions>,
  onProgress: (event: TrainEvent) => void,
  keepFeatures = false,
): Promise<TrainSummary> {
  stopTraining = false;
  const started = performance.now();
  const images = staged;
  const [{ collectFeatures, stratifiedSplit }, { trainClassifier }] = await Promise.all([
    import('../model/training'),
    import('../model/train-recipe'),
  ]);
  const labels = [...new Set(images.map((i) => i.label))].sort();
  if (labels.length < 2) throw new BadRequestError('training needs images of at least two classes');
  const source = await featureEngine();
  const node = source.files.spec.features?.node;
  const base = source.files;
  if (base.format === 'onnx' || base.format === 'tflite')
    throw new ModelFormatError(
      `${base.spec.name} runs on ${base.format === 'onnx' ? 'ONNX Runtime' : 'LiteRT'} only: training a head needs a tfjs base model`,
    );
  if (!node) throw new ModelFormatError(`${source.files.spec.name} names no feature layer to train on`);
  const settings = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const nearest = settings.method === 'nearest';
  const labelled = images.map((image) => labels.indexOf(image.label));
  const imageSplit = nearest
    ? { train: labelled.map((_, i) => i), val: [] }
    : stratifiedSplit(labelled, settings.validation, settings.seed);
  const views = trainingViews(images.length, nearest ? [] : imageSplit.train, settings);
  const total = views.reduce((sum, v) => sum + v.length, 0);
  const cacheKey = `${source.files.spec.name}@${source.files.version}`;
  const keys: string[] = [];
  featureCache.startRun();
  let done = 0;
  let computed = 0;
  let ahead: { index: number; bytes: Promise<Uint8Array<ArrayBuffer>>; bitmap: Promise<ImageBitmap> } | null = null;
  const { features, truth, split } = await collectFeatures(labelled, imageSplit, views, async (i, imageViews) => {
    const image = images[i]!;
    // The next photo, read and checked while the model ran on this one (once: its bytes and decode are reused here).
    const early = ahead?.index === i ? ahead : null;
    if (ahead && !early)
      void ahead.bitmap.then(
        (b) => b.close(),
        () => undefined,
      );
    ahead = null;
    let hash = image.key;
    if (!hash) {
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await (early?.bytes ?? checkedBytes(image.data));
      } catch (error) {
        done += imageViews.length;
        onProgress({
          phase: 'refused',
          index: i,
          error: { name: errorNameOf(error), message: (error as Error).message },
        });
        return null;
      }
      hash = await sha256Hex(bytes);
    }
    keys[i] = hash;
    const vectors: Float32Array[] = [];
    let bitmap: Promise<ImageBitmap> | null = early?.bitmap ?? null;
    try {
      for (const view of imageViews) {
        if (stopTraining) throw new CancelledError('training was cancelled');
        const key = `${cacheKey}|${hash}|${viewKey(view)}`;
        let vector = await featureCache.get(key, keepFeatures);
        if (!vector) {
          bitmap ??= decodeTrainingImage(image.data);
          // The next photo is decoded only once its bytes passed the checks, as every photo is.
          const next = images[i + 1]?.data;
          if (!ahead && next) {
            const bytes = checkedBytes(next);
            ahead = { index: i + 1, bytes, bitmap: bytes.then(() => decodeTrainingImage(next)) };
            // Awaited later, or never (a photo whose features turn out known): either way not an unhandled rejection.
            bytes.catch(() => undefined);
            ahead.bitmap.catch(() => undefined);
          }
          vector = await source.features(bitmapToPixels(await bitmap, source.files.spec, view), node);
          computed++;
          await featureCache.set(key, vector, keepFeatures);
        }
        vectors.push(vector);
        onProgress({ phase: 'features', done: ++done, total });
      }
    } catch (error) {
      if (!(error instanceof CorruptImageError)) throw error;
      done += imageViews.length - vectors.length;
      onProgress({ phase: 'refused', index: i, error: { name: error.name, message: error.message } });
      return null;
    } finally {
      void bitmap?.then(
        (b) => b.close(),
        () => undefined,
      );
    }
    return vectors;
  }).finally(
    () =>
      ahead &&
      void ahead.bitmap.then(
        (b) => b.close(),
        () => undefined,
      ),
  );
  if (new Set(split.train.map((i) => truth[i])).size < 2)
    throw new BadRequestError('training needs images of at least two classes');
  const featuresMs = performance.now() - started;
  const common = { labels, features: { total, computed, ...featureCache.reused }, keys };
  const result = await trainClassifier(base, features, truth, split, images.length, labels, settings, {
    onEpoch: (figures) => onProgress({ phase: 'training', ...figures }),
    keepGoing: () => !stopTraining,
    reviewTraining: true,
  });
  trained = { files: result.files('float32'), name: result.name, labels: result.labels, rebuild: result.files };
  const { method, split: sizes, history, bestEpoch, report, name, review } = result;
  return {
    ...common,
    method,
    split: sizes,
    history,
    bestEpoch,
    valAccuracy: report.top1,
    report,
    name,
    review,
    timing: { featuresMs, totalMs: performance.now() - started },
  };
}

/** Forgets the training features kept in memory and on this device. */
async function forgetFeatures(): Promise<void> {
  await featureCache.clear();
}

function cancelTraining(): void {
  stopTraining = true;
}

/** Stores the trained model (base and head as one graph model) and makes it active. */
async function useTrained(): Promise<ModelInfo> {
  if (!trained) throw new BadRequestError('nothing has been trained yet');
  const metadata = JSON.parse(new TextDecoder().decode(trained.files['metadata.json']));
  const prepared = {
    name: trained.name,
    format: 'graph-model' as const,
    source: TRAINED_SOURCE,
    spec: parseModelSpec(metadata),
    labels: trained.labels,
    preprocessing: 'as the built-in model',
    files: trained.files,
  };
  const stored = await saveModel(prepared, TRAINED_SOURCE);
  await run(await openModel(stored.id), stored.id);
  await setActiveModel(stored.id);
  return currentInfo();
}

/**
 * The trained model as a .zip: model.json, weights, labels, metadata (with the training
 * figures) and the base model's licence; the head's kernels stored as `storage` says.
 */
async function exportTrained(storage: HeadStorage = 'float32'): Promise<Uint8Array> {
  if (!trained) throw new BadRequestError('nothing has been trained yet');
  const licence = await fetch(new URL('LICENSE', new URL(builtinUrl, self.location.href)))
    .then((r) => (r.ok ? r.arrayBuffer() : null))
    .catch(() => null);
  const { zipSync } = await import('fflate');
  return zipSync({ ...trained.rebuild(storage), ...(licence ? { LICENSE: new Uint8Array(licence) } : {}) });
}

/** The engine that answers; an image given while the model loads waits for it rather than failing. */
async function readyEngine(): Promise<Engine> {
  if (!engine?.backend && loading) await loading;
  if (!engine?.backend) throw new ModelLoadError('the model is not loaded');
  return engine;
}

async function classify(bitmap: ImageBitmap, k = 5): Promise<ClassifyResult> {
  try {
    const current = await readyEngine();
    if (!Number.isInteger(k) || k < 1) throw new BadRequestError('topK must be a whole number ≥ 1');
    const start = performance.now();
    const pixels = bitmapToPixels(bitmap, current.files.spec);
    const pixelMs = performance.now() - start;
    const result = await current.classify(pixels, k);
    return { ...result, ms: pixelMs + result.ms };
  } finally {
    bitmap.close();
  }
}

/** The explanation under way: asking for another, or cancelling, ends it. */
let explaining = 0;

/**
 * Where the model looked for `classIndex` (its top-1 when null) in this image: an occlusion
 * map in the photo's own coordinates. Its runs go through the engine's queue one at a time, so
 * other photos are classified meanwhile; a newer explanation or `cancelExplain` ends it.
 */
async function explain(
  bitmap: ImageBitmap,
  classIndex: number | null,
  onProgress?: (done: number, total: number) => void,
): Promise<Heatmap> {
  const run = ++explaining;
  try {
    const current = await readyEngine();
    const pixels = bitmapToPixels(bitmap, current.files.spec);
    bitmap.close();
    const whole = await current.probabilities(pixels);
    const target = classIndex ?? whole.indexOf(whole.reduce((a, b) => Math.max(a, b), -Infinity));
    if (!Number.isInteger(target) || target < 0 || target >= whole.length)
      throw new BadRequestError(`class ${classIndex} is not one of the model's ${whole.length}`);
    const { occlusionMap } = await import('../src/core/occlusion');
    return await occlusionMap(
      pixels,
      current.files.spec,
      target,
      async (masked) => (await current.probabilities(masked))[target]!,
      {
        base: whole[target]!,
        cancelled: () => run !== explaining || engine !== current,
        ...(onProgress
          ? { onProgress: (done, total) => void Promise.resolve(onProgress(done, total)).catch(() => undefined) }
          : {}),
      },
    );
  } finally {
    bitmap.close();
  }
}

function cancelExplain(): void {
  explaining++;
}

/** Switches backend on request (the settings control); 'auto' re-runs the automatic choice. */
async function setBackend(wanted: BackendPreference): Promise<ModelInfo> {
  if (!selector) throw new ModelLoadError('the model is not loaded');
  checkPreference(wanted);
  preference = wanted;
  await selector.start(wanted);
  const info = currentInfo();
  notify({ phase: 'ready', info });
  return info;
}

/**
 * Keeps a temperature fitted on the user's labelled images for the running model (null: back to
 * the model's own), applied from now on to every answer, on every engine, and after a reload.
 */
async function calibrate(temperature: number | null): Promise<ModelInfo> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  if (temperature !== null && !isTemperature(temperature)) {
    throw new BadRequestError(`a temperature is a number from ${TEMPERATURE_RANGE[0]} to ${TEMPERATURE_RANGE[1]}`);
  }
  await storeTemperature(engine.files.version, temperature);
  engine.temperature = temperature ?? engine.files.spec.temperature ?? 1;
  const info = currentInfo();
  notify({ phase: 'ready', info });
  return info;
}

async function info(): Promise<ModelInfo> {
  return currentInfo();
}

/** The runtime facts the diagnostics panel shows; asked for only while it is open. */
async function diagnostics(): Promise<WorkerDiagnostics> {
  const flag = async (name: string) =>
    Boolean(
      await tf
        .env()
        .getAsync(name)
        .catch(() => false),
    );
  const memory = tfjsMemory();
  return {
    tfjsVersion: tf.version_core,
    probes: selector ? await selector.probes() : [],
    wasm: { simd: await flag('WASM_HAS_SIMD_SUPPORT'), threads: await flag('WASM_HAS_MULTITHREAD_SUPPORT') },
    memory,
  };
}

/** The model's class names, in output order (for evaluation tables). */
async function labels(): Promise<string[]> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  return engine.files.labels;
}

export const api = {
  load,
  classify,
  explain,
  cancelExplain,
  info,
  calibrate,
  setBackend,
  labels,
  diagnostics,
  models,
  importModel,
  useModel,
  correctModel,
  relabelModel,
  deleteModel,
  stageTraining,
  train,
  cancelTraining,
  forgetFeatures,
  useTrained,
  exportTrained,
};
export type ClassifierApi = typeof api;
