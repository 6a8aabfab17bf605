import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { MANIFEST_FILE } from '../src/core/model-manifest';
import { modelManifest } from '../build/model-manifest';
import { Engine } from '../model/engine';
import { ModelFormatError } from '../src/core/errors';
import { fetchModelFiles, type ModelFiles, type TfjsModelFiles } from '../model/model-files';
import { prepareImport } from '../model/model-import';
import { recordFetcher, withManifest } from '../model/model-records';
import { OnnxRunner, onnxError, onnxRuntime } from '../model/onnx-runtime';
import { tfjsRuntime } from '../model/tfjs-runtime';
import { readModelSource } from '../build/model-source';
import { fileFetch } from './node-io';
import { runGuard } from './run-guard';

/** Each backend's first start, shared: of two starts of one backend at once, tfjs fails the earlier. */
const started = new Map<string, Promise<boolean>>();

export async function nodeActivate(backend: string): Promise<boolean> {
  let start = started.get(backend);
  if (!start) started.set(backend, (start = tf.setBackend(backend)));
  if (!(await start)) {
    started.delete(backend);
    return false;
  }
  return (await tf.setBackend(backend)) && tf.getBackend() === backend;
}

/** tfjs on its wasm and CPU backends, as the tools and unit tests run models in Node. */
export const nodeTfjs = tfjsRuntime(nodeActivate);

/**
 * A model folder loaded through the worker's own verified loader. A folder without a
 * manifest.json (a model fresh from a converter) gets one computed from its files.
 */
export async function loadModelDir(dir: string): Promise<ModelFiles> {
  const computed = existsSync(join(dir, MANIFEST_FILE)) ? null : JSON.stringify(await modelManifest(dir));
  const fetcher: typeof fetch = async (input, init) =>
    computed && String(input).endsWith(`/${MANIFEST_FILE}`) ? new Response(computed) : fileFetch(input, init);
  return fetchModelFiles(pathToFileURL(dir).href, () => undefined, fetcher);
}

/** A folder in Glimpse's own layout (what `npm run build` ships and the converters write), loaded as it is. */
function isGlimpseFolder(dir: string): boolean {
  const has = (name: string) => existsSync(join(dir, name));
  return has('metadata.json') && has('labels.json') && (has('model.json') || has('model.onnx'));
}

/** The Glimpse folder a --model argument names (the folder, or its model.json), else null. */
export function modelFolder(source: string): string | null {
  const path = resolve(source);
  if (basename(path) === 'model.json' && isGlimpseFolder(dirname(path))) return dirname(path);
  return statSync(path).isDirectory() && isGlimpseFolder(path) ? path : null;
}

/**
 * Any model the app can import: a folder in Glimpse's layout or its model.json, else what the
 * Models view takes (a Teachable Machine export, a TF.js model, a .tflite with labels, an ONNX
 * model or Hugging Face folder, or a .zip of one), prepared by the app's own importer.
 */
export async function loadModel(source: string): Promise<ModelFiles> {
  const folder = modelFolder(source);
  if (folder) return loadModelDir(folder);
  const prepared = prepareImport(readModelSource(source));
  return fetchModelFiles(
    'https://glimpse.invalid/model/',
    () => undefined,
    recordFetcher(await withManifest(prepared.files)),
  );
}

/**
 * onnxruntime-node's session options for Glimpse's tools and its reference checks. Its default
 * int8 (U8S8) matrix products saturate 16-bit sums on x86-64 CPUs without VNNI (AVX2 alone, as on
 * the AMD EPYC these tools were last run on): the ONNX Model Zoo MobileNetV2 int8 then answers
 * "garfish" for a tench, 8 logits off the browser's WebAssembly build. The exact U8U8 products
 * match the browser to the last digit there, and change nothing on CPUs that have VNNI.
 */
export const NODE_ORT_OPTIONS = {
  graphOptimizationLevel: 'all',
  extra: { session: { x64quantprecision: '1' } },
} as const;

/**
 * ONNX models run on onnxruntime-node's CPU provider in Node (the engine's slot is still called
 * onnx-wasm): the same ONNX Runtime kernels the browser's WebAssembly build compiles.
 */
const nodeOnnx = onnxRuntime(async ({ onnx: bytes, spec, external }) => {
  const ort = await import('onnxruntime-node');
  // The native runtime reads external data by path beside the model: both go to a folder of their own for the load.
  const dir = Object.keys(external).length ? mkdtempSync(join(tmpdir(), 'glimpse-onnx-')) : null;
  try {
    if (dir)
      for (const [name, data] of Object.entries({ 'model.onnx': bytes, ...external }))
        writeFileSync(join(dir, name), data);
    const session = dir
      ? await ort.InferenceSession.create(join(dir, 'model.onnx'), NODE_ORT_OPTIONS)
      : await ort.InferenceSession.create(bytes, NODE_ORT_OPTIONS);
    return new OnnxRunner(ort, session, spec);
  } catch (error) {
    throw onnxError('ONNX Runtime cannot load the model', error);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

/** A model the tool works on as tfjs weights (quantizing, training a head): an ONNX model is refused by name. */
export function tfjsOnly(files: ModelFiles, why: string): TfjsModelFiles {
  if (files.format === 'onnx')
    throw new ModelFormatError(`${files.spec.name} is an ONNX model: ${why} works on tfjs models`);
  if (files.format === 'tflite')
    throw new ModelFormatError(`${files.spec.name} runs on LiteRT only: ${why} works on tfjs models`);
  return files;
}

/** The worker's engine, ready on tfjs-wasm in Node (an ONNX model on onnxruntime-node), its runs under the tools' guard. */
export async function nodeEngine(files: ModelFiles, backend = 'wasm'): Promise<Engine> {
  const engine = new Engine(files, [nodeTfjs, nodeOnnx], runGuard());
  const [first] = engine.startOrder(backend as 'wasm');
  await engine.prepare(first!);
  await engine.select(first!);
  return engine;
}
