import { resolve } from 'node:path';
import type { TfjsModelFiles } from '../../model/model-files';
import { loadModelDir, tfjsOnly } from '../../tools/node-model';

export { nodeTfjs } from '../../tools/node-model';

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
export async function loadShippedModel(dir = MODEL_DIR): Promise<TfjsModelFiles> {
  return tfjsOnly(await loadModelDir(dir), 'this test');
}
