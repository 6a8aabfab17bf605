/**
 * The classifier worker, created by the page's first, small chunk before the app's own code
 * has loaded: on a first visit the worker's script compiles (the longest step before the first
 * answer) while the page compiles its own. classifier.svelte.ts is its one owner.
 */
export function startClassifierWorker(): Worker {
  return new Worker(new URL('../../workers/classifier.worker.ts', import.meta.url), {
    type: 'module',
    name: 'glimpse-classifier',
  });
}

/** The first one; the watchdog starts another when it ends one (src/lib/classifier.svelte.ts). */
export const classifierWorker = startClassifierWorker();

/** The built-in model's folder. */
export const MODEL_URL = `${import.meta.env.BASE_URL}model/`;
