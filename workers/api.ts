/// <reference path="../src/core/build-constants.d.ts" />
import { BadRequestError, ModelLoadError } from '../src/core/errors';
import type { Prediction } from '../src/core/predictions';
import {
  fallbackOrder,
  fastest,
  isBackendName,
  skippedByProbe,
  trialCandidates,
  TRIAL_FIRST_RUN_CAP_MS,
  type BackendChoice,
  type BackendName,
  type BackendPreference,
  type GpuProbe,
} from './backend-choice';
import { activate, probeGpus } from './backends';
import { deviceKey, forget, recall, remember } from './choice-memory';
import { Engine } from './engine';
import { fetchModelFiles } from './model-files';
import { bitmapToPixels } from './pixels';

export interface ModelInfo {
  model: { name: string; version: string; classes: number; inputSize: readonly [number, number] };
  backend: BackendName;
  choice: BackendChoice;
}

export type LoadProgress =
  | { phase: 'download'; loaded: number; total: number }
  | { phase: 'warmup'; backend: BackendName }
  /** Sent when loading finishes and again whenever a background trial switches backend. */
  | { phase: 'ready'; info: ModelInfo };

export interface LoadOptions {
  backend?: BackendPreference;
}

export interface ClassifyResult {
  predictions: Prediction[];
  backend: BackendName;
  /** Worker time for this image: pixels, preprocessing, inference and top-k. */
  ms: number;
}

let engine: Engine | null = null;
let choice: BackendChoice | null = null;
let loading: Promise<ModelInfo> | null = null;
let notify: (event: LoadProgress) => void = () => undefined;
let probesOnce: Promise<GpuProbe[]> | null = null;
/** Bumped by every explicit choice, so a background trial that finishes later cannot override it. */
let generation = 0;

const probes = () => (probesOnce ??= probeGpus().catch(() => []));

function currentInfo(): ModelInfo {
  if (!engine || !choice) throw new ModelLoadError('the model is not loaded');
  const { spec, labels, version } = engine.files;
  return { model: { name: spec.name, version, classes: labels.length, inputSize: spec.inputSize }, backend: choice.backend, choice };
}

/** Prepares the first backend in `order` that starts and runs the model. */
async function startFirstWorking(order: readonly BackendName[]): Promise<BackendName> {
  for (const backend of order) {
    try {
      notify({ phase: 'warmup', backend });
      await engine!.prepare(backend);
      await engine!.select(backend);
      return backend;
    } catch {
      await engine!.drop(backend);
    }
  }
  throw new ModelLoadError('no tfjs backend could run the model');
}

/**
 * Times each hardware GPU backend against the current one while the app already
 * answers on it, then keeps the fastest and remembers it for this device.
 */
async function measureInBackground(key: string, found: readonly GpuProbe[], started: number): Promise<void> {
  const current = choice!;
  const timings = { ...current.timings, [current.backend]: await engine!.time(current.backend) };
  const skipped = skippedByProbe(found);
  for (const candidate of trialCandidates(found)) {
    try {
      const firstMs = await engine!.prepare(candidate);
      // The compiling first run already shows a candidate that cannot win.
      if (firstMs > TRIAL_FIRST_RUN_CAP_MS) skipped[candidate] = `first run took ${Math.round(firstMs)} ms`;
      else timings[candidate] = await engine!.time(candidate);
    } catch (error) {
      skipped[candidate] = `failed: ${(error as Error).message}`;
    }
  }
  if (started !== generation) return;
  const winner = fastest(current.backend, timings);
  for (const candidate of trialCandidates(found)) if (candidate !== winner) await engine!.drop(candidate);
  await engine!.select(winner);
  choice = { backend: winner, reason: 'measured', timings, skipped };
  await remember(key, winner);
  notify({ phase: 'ready', info: currentInfo() });
}

/**
 * After the app already answers on the fast default: probe the GPUs, then switch to
 * the backend remembered for this device, or time the hardware GPUs, or settle on
 * the default when there is no hardware GPU. Probing waits until now because
 * creating a GPU context blocks the worker for a while.
 */
async function chooseInBackground(current: BackendName, started: number): Promise<void> {
  const found = await probes();
  const key = deviceKey(engine!.files.spec.name, found);
  const remembered = await recall(key);
  if (started !== generation) return;
  if (remembered && remembered !== current) {
    try {
      await engine!.prepare(remembered);
      if (started !== generation) return;
      await engine!.select(remembered);
      choice = { backend: remembered, reason: 'remembered', timings: {}, skipped: skippedByProbe(found) };
      notify({ phase: 'ready', info: currentInfo() });
      return;
    } catch {
      await engine!.drop(remembered);
      await forget(key);
    }
  }
  if (trialCandidates(found).some((b) => b !== current)) return measureInBackground(key, found, started);
  choice = { backend: current, reason: remembered === current ? 'remembered' : 'no-gpu', timings: {}, skipped: skippedByProbe(found) };
  notify({ phase: 'ready', info: currentInfo() });
}

async function start(preference: BackendPreference): Promise<ModelInfo> {
  const started = ++generation;
  const backend = await startFirstWorking(fallbackOrder(preference === 'auto' ? 'wasm' : preference));
  if (preference !== 'auto') {
    choice = { backend, reason: backend === preference ? 'forced' : 'fallback', timings: {}, skipped: {} };
    return currentInfo();
  }
  choice = { backend, reason: 'measuring', timings: {}, skipped: {} };
  void chooseInBackground(backend, started).catch(() => undefined);
  return currentInfo();
}

async function load(url: string, onProgress: (event: LoadProgress) => void, options: LoadOptions = {}): Promise<ModelInfo> {
  notify = (event) => void Promise.resolve(onProgress(event)).catch(() => undefined);
  const preference = options.backend ?? 'auto';
  if (preference !== 'auto' && !isBackendName(preference)) throw new BadRequestError(`unknown backend "${String(preference)}"`);
  loading ??= (async () => {
    // Starting the backend overlaps with the download.
    const [files] = await Promise.all([fetchModelFiles(url, (p) => notify({ phase: 'download', ...p }), undefined, __GLIMPSE_MODEL_MANIFEST_SHA256__), activate(preference === 'auto' ? 'wasm' : preference)]);
    engine = new Engine(files, activate);
    const info = await start(preference);
    notify({ phase: 'ready', info });
    return info;
  })().catch((error: unknown) => {
    // A failed load is forgotten so that a retry starts afresh.
    loading = null;
    engine?.dispose();
    engine = null;
    throw error;
  });
  return loading;
}

async function classify(bitmap: ImageBitmap, k = 5): Promise<ClassifyResult> {
  try {
    // An image given while the model loads waits for it rather than failing.
    if (!engine?.backend && loading) await loading;
    if (!engine?.backend) throw new ModelLoadError('the model is not loaded');
    if (!Number.isInteger(k) || k < 1) throw new BadRequestError('topK must be a whole number ≥ 1');
    const start = performance.now();
    const pixels = bitmapToPixels(bitmap, engine.files.spec);
    const pixelMs = performance.now() - start;
    const result = await engine.classify(pixels, k);
    return { ...result, ms: pixelMs + result.ms };
  } finally {
    bitmap.close();
  }
}

/** Switches backend on request (the settings control); 'auto' re-runs the automatic choice. */
async function setBackend(preference: BackendPreference): Promise<ModelInfo> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  if (preference !== 'auto' && !isBackendName(preference)) throw new BadRequestError(`unknown backend "${String(preference)}"`);
  const info = await start(preference);
  notify({ phase: 'ready', info });
  return info;
}

async function info(): Promise<ModelInfo> {
  return currentInfo();
}

/** The model's class names, in output order (for evaluation tables). */
async function labels(): Promise<string[]> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  return engine.files.labels;
}

export const api = { load, classify, info, setBackend, labels };
export type ClassifierApi = typeof api;
