import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { MANIFEST_FILE } from '../src/core/model-manifest';
import { modelManifest } from '../build/model-manifest';
import { Engine } from '../workers/engine';
import { ModelFormatError } from '../src/core/errors';
import { fetchModelFiles, type ModelFiles, type TfjsModelFiles } from '../workers/model-files';
import { fileFetch } from './node-io';

export async function nodeActivate(backend: string): Promise<boolean> {
  return (await tf.setBackend(backend)) && tf.getBackend() === backend;
}

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

/** A model the tool works on as tfjs weights (quantizing, training a head): an ONNX model is refused by name. */
export function tfjsOnly(files: ModelFiles, why: string): TfjsModelFiles {
  if (files.format === 'onnx') throw new ModelFormatError(`${files.spec.name} is an ONNX model: ${why} works on tfjs models`);
  return files;
}

/** The worker's engine, ready on tfjs-wasm in Node. */
export async function nodeEngine(files: ModelFiles, backend = 'wasm'): Promise<Engine> {
  const engine = new Engine(files, nodeActivate);
  await engine.prepare(backend as 'wasm');
  await engine.select(backend as 'wasm');
  return engine;
}
