/// <reference path="../src/core/build-constants.d.ts" />
import { isBackendName, type BackendPreference } from '../src/core/backends';
import * as tf from '@tensorflow/tfjs-core';
import {
  BUILTIN_MODEL,
  TRAINED_SOURCE,
  type ClassifyResult,
  type FeatureSource,
  type LoadOptions,
  type LoadProgress,
  type ModelInfo,
  type WorkerDiagnostics,
} from '../src/core/classifier-types';
import { BadRequestError, errorNameOf, ModelLoadError } from '../src/core/errors';
import { modelFileUrl, TFLITE_FILE } from '../src/core/model-manifest';
import { BackendSelector } from './backend-selector';
import { activate, probeGpus } from './backends';
import { deviceMemory } from './choice-memory';
import { Engine } from '../model/engine';
import { tfjsBytesOutsideWasm, tfjsMemory, tfjsRuntime } from '../model/tfjs-runtime';
import { liteRtRuntime } from '../model/litert-runtime';
import { onnxRuntime } from '../model/onnx-runtime';
import { PortRunWatch } from './run-watch';
import { fetchModelFiles, type ModelFiles } from '../model/model-files';
import { keep } from './kept-files';
import { startLiteRtDownload } from './litert-wasm';
import { activeModel, listModels, setActiveModel, storedFetcher } from './model-store';
import { bitmapToPixels } from './pixels';
import type { Heatmap } from '../src/core/occlusion';
import { storedTemperature, storeTemperature } from './calibration-store';
import { isTemperature, TEMPERATURE_RANGE } from '../src/core/calibration';

/**
 * The active model: loading it (verified), the backend choice (BackendSelector's), its answers
 * (classify, explain), its calibration, and switching to another. Its state lives here alone; the
 * other parts of the worker read it and switch models through these functions.
 */

export let engine: Engine | null = null;

let selector: BackendSelector | null = null;

let loading: Promise<ModelInfo> | null = null;

let notify: (event: LoadProgress) => void = () => undefined;

export let builtinUrl = '';

let preference: BackendPreference = 'auto';

export let activeId = BUILTIN_MODEL;

/** A stored model that was active but could not be loaded, or that the watchdog stopped; the built-in one runs instead. */
export let problem: ModelInfo['problem'] = null;

/** Whose features training uses while the active model runs (see featureSource). */
export let features: FeatureSource = 'own';

/** Where every model run is told to the page's watchdog (src/lib/run-watchdog.ts). */
let watchPort: MessagePort | null = null;

/** A watch for one model's runs: the page's watchdog ends this worker when one hangs or fills memory. */
export function watchFor(model: string): PortRunWatch {
  return new PortRunWatch(watchPort, model, tfjsBytesOutsideWasm);
}

/** The built-in model and the models the site ships: served, never stored. */
export function shipsWithSite(id: string): boolean {
  return id === BUILTIN_MODEL || __GLIMPSE_SHIPPED_MODELS__.some((m) => m.id === id);
}

export function currentInfo(): ModelInfo {
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
export async function openModel(
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
const liteRt = liteRtRuntime(async (files, outputs) => {
  startLiteRtDownload();
  const started = import('./litert').then((chunk) => (chunk.startRuntime().catch(() => undefined), chunk));
  const [{ LiteRtRunner }, tflite] = await Promise.all([started, files.tflite!()]);
  return LiteRtRunner.create(tflite, files.spec, outputs);
});

/** ONNX Runtime Web is a chunk of its own too, loaded only when an ONNX model runs. */
const onnx = onnxRuntime(async (files, backend) =>
  (await import('./onnx')).createOnnxRunner(files.onnx, files.spec, backend, files.external),
);

export const tfjs = tfjsRuntime(activate);

/** Runs `files` from now on: warmed up on the chosen backend before the previous model is let go. */
export async function run(files: ModelFiles, id: string, warmed?: Engine): Promise<ModelInfo> {
  const next = warmed ?? newEngine(files, watchFor(id));
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
export async function load(
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
    const first = preference === 'auto' ? 'wasm' : preference;
    const starting = tfjs.backends.includes(first) ? activate(first) : Promise.resolve(false);
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
export async function useModel(id: string): Promise<ModelInfo> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  await run(await openModel(id), id);
  forgetProblem(id);
  await setActiveModel(id);
  return currentInfo();
}

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

/** The engine that answers; an image given while the model loads waits for it rather than failing. */
async function readyEngine(): Promise<Engine> {
  if (!engine?.backend && loading) await loading;
  if (!engine?.backend) throw new ModelLoadError('the model is not loaded');
  return engine;
}

export async function classify(bitmap: ImageBitmap, k = 5): Promise<ClassifyResult> {
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
export async function explain(
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

export function cancelExplain(): void {
  explaining++;
}

/** Switches backend on request (the settings control); 'auto' re-runs the automatic choice. */
export async function setBackend(wanted: BackendPreference): Promise<ModelInfo> {
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
export async function calibrate(temperature: number | null): Promise<ModelInfo> {
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

export async function info(): Promise<ModelInfo> {
  return currentInfo();
}

/** The runtime facts the diagnostics panel shows; asked for only while it is open. */
export async function diagnostics(): Promise<WorkerDiagnostics> {
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
export async function labels(): Promise<string[]> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  return engine.files.labels;
}

/** An engine for `files` with every runtime this worker has (LiteRT and ONNX Runtime load when first used). */
export function newEngine(files: ModelFiles, watch: PortRunWatch): Engine {
  return new Engine(files, [tfjs, liteRt, onnx], watch);
}

/** A model the user deleted or chose again is no longer the one that could not run. */
export function forgetProblem(id: string): void {
  if (problem?.id === id) problem = null;
}
