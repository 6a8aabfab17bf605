import { isBackendName, type BackendPreference } from '../core/backends';
import { parseMinConfidence } from '../core/predictions';

/** What a page's URL may ask for: `?backend=` forces a backend, `?view=` opens a view. */

export function backendFromUrl(search: string): BackendPreference {
  const value = new URLSearchParams(search).get('backend');
  return isBackendName(value) ? value : 'auto';
}

/** `?model=<id>`: a model the site ships, for this page only. */
export function modelFromUrl(search: string): string | undefined {
  return new URLSearchParams(search).get('model') ?? undefined;
}

export function viewFromUrl<V extends string>(search: string, views: readonly V[], fallback: V): V {
  const value = new URLSearchParams(search).get('view');
  return (views as readonly string[]).includes(value ?? '') ? (value as V) : fallback;
}

/** `?minConfidence=0.6` (or `60%`): below this top-1 probability an answer says "not sure" first; undefined when absent or not a share. */
export function minConfidenceFromUrl(search: string): number | undefined {
  return parseMinConfidence(new URLSearchParams(search).get('minConfidence'));
}
