import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { fetchModelFiles, type ModelFiles } from '../../workers/model-files';
import { fileFetch } from '../../tools/node-io';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MODEL_DIR = resolve(ROOT, 'public/model');
export const FIXTURES = resolve(ROOT, 'tests/fixtures');

/** Expected top-1 class index of each committed photo (from shared/images/coral/PREDICTIONS.txt). */
export const EXPECTED_TOP1: Record<string, number> = {
  'parrot.jpg': 88,
  'hot_dog.jpg': 934,
  'cat.png': 285,
  'dragonfly.png': 319,
  'bird.png': 19,
};

/** The shipped model, loaded through the worker's own loader. */
export function loadShippedModel(dir = MODEL_DIR): Promise<ModelFiles> {
  return fetchModelFiles(pathToFileURL(dir).href, () => undefined, fileFetch);
}

export async function nodeActivate(backend: string): Promise<boolean> {
  return (await tf.setBackend(backend)) && tf.getBackend() === backend;
}
