/**
 * Removes every cached copy of a URL from Cache Storage (the service worker's precache
 * keys carry a revision parameter, so entries are matched by path), so that the next
 * fetch goes to the network; but the copy at `spare` (the same path), where given.
 * A no-op where Cache Storage does not exist.
 */
export async function evictCached(url: URL, spare?: URL): Promise<void> {
  if (typeof caches === 'undefined') return;
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const cached = new URL(request.url);
      if (cached.origin === url.origin && cached.pathname === url.pathname && cached.href !== spare?.href)
        await cache.delete(request);
    }
  }
}

/**
 * Runs a download-and-check once more on a fresh download (every cached copy evicted,
 * the HTTP cache bypassed) when it finds the bytes tampered with; a second failure is final.
 */
export async function repairing<T>(
  url: URL,
  attempt: (init?: RequestInit) => Promise<T>,
  first?: RequestInit,
): Promise<T> {
  try {
    return await attempt(first);
  } catch (error) {
    if ((error as Error).name !== 'ModelIntegrityError') throw error;
    await evictCached(url);
    return attempt({ cache: 'reload' });
  }
}
