import { evictCached } from './cache-repair';

/**
 * The cache the service worker answers LiteRT's wasm and .tflite files from (workers/sw.ts).
 * The worker puts each file there itself once it verified it: the first use of LiteRT may
 * happen before the service worker controls the page, and the copy must not wait for a
 * second download to make LiteRT work offline.
 */
export const KEPT_CACHE = 'glimpse-litert';

/** Keeps a verified file in place of every cached copy of its path (another version: another `?v=`). */
export async function keep(url: URL, bytes: BufferSource, type: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  try {
    await evictCached(url);
    await (await caches.open(KEPT_CACHE)).put(url, new Response(bytes, { headers: { 'content-type': type } }));
  } catch {
    // Storage full or unavailable: LiteRT still runs, it is fetched again next time.
  }
}
