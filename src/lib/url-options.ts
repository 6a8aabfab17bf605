import { isBackendName, type BackendPreference } from '../core/backends';

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
