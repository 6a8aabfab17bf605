/// <reference path="../src/core/build-constants.d.ts" />
import { isBackendName, type BackendPreference } from '../src/core/backends';
import * as tf from '@tensorflow/tfjs-core';
import type { ClassifyResult, LoadOptions, LoadProgress, ModelInfo, WorkerDiagnostics } from '../src/core/classifier-types';
import { BadRequestError, ModelLoadError } from '../src/core/errors';
import { BackendSelector } from './backend-selector';
import { activate, probeGpus } from './backends';
import { deviceMemory } from './choice-memory';
import { Engine } from './engine';
import { fetchModelFiles } from './model-files';
import { bitmapToPixels } from './pixels';

/**
 * The classifier worker's API, exposed with comlink: load the model (verified), classify
 * transferred bitmaps, switch backend. The backend choice itself is BackendSelector's.
 */

let engine: Engine | null = null;
let selector: BackendSelector | null = null;
let loading: Promise<ModelInfo> | null = null;
let notify: (event: LoadProgress) => void = () => undefined;

function currentInfo(): ModelInfo {
  const choice = selector?.choice;
  if (!engine || !choice) throw new ModelLoadError('the model is not loaded');
  const { spec, labels, version } = engine.files;
  return { model: { name: spec.name, version, classes: labels.length, inputSize: spec.inputSize, crop: spec.centralCrop }, backend: choice.backend, choice };
}

function checkPreference(preference: BackendPreference): void {
  if (preference !== 'auto' && !isBackendName(preference)) throw new BadRequestError(`unknown backend "${String(preference)}"`);
}

async function load(url: string, onProgress: (event: LoadProgress) => void, options: LoadOptions = {}): Promise<ModelInfo> {
  notify = (event) => void Promise.resolve(onProgress(event)).catch(() => undefined);
  const preference = options.backend ?? 'auto';
  checkPreference(preference);
  loading ??= (async () => {
    // Starting the backend overlaps with the download.
    const [files] = await Promise.all([
      fetchModelFiles(url, (p) => notify({ phase: 'download', ...p }), undefined, __GLIMPSE_MODEL_MANIFEST_SHA256__),
      activate(preference === 'auto' ? 'wasm' : preference),
    ]);
    const loaded = new Engine(files, activate);
    engine = loaded;
    selector = new BackendSelector({
      engine: loaded,
      probe: probeGpus,
      memory: (probes) => deviceMemory(files.spec.name, probes),
      warming: (backend) => notify({ phase: 'warmup', backend }),
      notify: () => notify({ phase: 'ready', info: currentInfo() }),
    });
    await selector.start(preference);
    const info = currentInfo();
    notify({ phase: 'ready', info });
    return info;
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
  if (!selector) throw new ModelLoadError('the model is not loaded');
  checkPreference(preference);
  await selector.start(preference);
  const info = currentInfo();
  notify({ phase: 'ready', info });
  return info;
}

async function info(): Promise<ModelInfo> {
  return currentInfo();
}

/** The runtime facts the diagnostics panel shows; asked for only while it is open. */
async function diagnostics(): Promise<WorkerDiagnostics> {
  const flag = async (name: string) => Boolean(await tf.env().getAsync(name).catch(() => false));
  const { numTensors, numBytes } = tf.memory();
  return {
    tfjsVersion: tf.version_core,
    probes: selector ? await selector.probes() : [],
    wasm: { simd: await flag('WASM_HAS_SIMD_SUPPORT'), threads: await flag('WASM_HAS_MULTITHREAD_SUPPORT') },
    memory: { tensors: numTensors, bytes: numBytes },
  };
}

/** The model's class names, in output order (for evaluation tables). */
async function labels(): Promise<string[]> {
  if (!engine) throw new ModelLoadError('the model is not loaded');
  return engine.files.labels;
}

export const api = { load, classify, info, setBackend, labels, diagnostics };
export type ClassifierApi = typeof api;
