/**
 * The cache the service worker answers LiteRT's wasm and .tflite files from (workers/sw.ts).
 * The worker puts each file there itself once it verified it: the first use of LiteRT may
 * happen before the service worker controls the page, and the copy must not wait for a
 * second download to make LiteRT work offline.
 */
export const KEPT_CACHE = 'glimpse-litert';

/** Keeps a verified file; a copy of another version of it (the same path, another `?v=`) is let go. */
export async function keep(url: URL, bytes: BufferSource, type: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  try {
    const cache = await caches.open(KEPT_CACHE);
    for (const kept of await cache.keys()) {
      const keptUrl = new URL(kept.url);
      if (keptUrl.pathname === url.pathname && keptUrl.href !== url.href) await cache.delete(kept);
    }
    await cache.put(url, new Response(bytes, { headers: { 'content-type': type } }));
  } catch {
    // Storage full or unavailable: LiteRT still runs, it is fetched again next time.
  }
}
