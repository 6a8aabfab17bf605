import { evictCached } from '../model/cache-repair';

/**
 * The cache the service worker answers LiteRT's wasm and .tflite files from (workers/sw.ts).
 * The worker puts each file there itself once it verified it: the first use of LiteRT may
 * happen before the service worker controls the page, and the copy must not wait for a
 * second download to make LiteRT work offline.
 */
export const KEPT_CACHE = 'glimpse-litert';

/**
 * Keeps a verified file in place of every cached copy of its path (another version: another
 * `?v=`). A copy already kept at its very URL is left as it is: the URL names the bytes (a
 * hashed file name, a model version), every read verifies them and a failed check evicts
 * it, so writing megabytes again on every visit would only wear the disk.
 */
export async function keep(url: URL, bytes: BufferSource, type: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  try {
    await evictCached(url, url);
    const cache = await caches.open(KEPT_CACHE);
    if (!(await cache.match(url))) await cache.put(url, new Response(bytes, { headers: { 'content-type': type } }));
  } catch {
    // Storage full or unavailable: LiteRT still runs, it is fetched again next time.
  }
}
