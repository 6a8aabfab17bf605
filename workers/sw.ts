import { clientsClaim } from 'workbox-core';
import { CacheableResponsePlugin } from 'workbox-cacheable-response';
import { addPlugins, cleanupOutdatedCaches, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { integrityOf } from '../src/core/integrity';
import { TFLITE_FILE } from '../src/core/model-manifest';
import { KEPT_CACHE } from './kept-files';

/**
 * The offline copy of the app (vite-plugin-pwa injects the precache list). Workbox checks
 * each file's SRI hash only when it downloads it; a script running in this origin could
 * later rewrite Cache Storage and so replace the app shell for good. So every cached
 * response is checked against its hash again each time it is served: a rewritten entry
 * is deleted and fetched afresh (with SRI), or, offline, not served at all. Model files
 * are the exception: the classifier worker verifies them itself against the model
 * manifest, whose hash is built into the app.
 */
declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (PrecacheEntry | string)[] };

const precache = self.__WB_MANIFEST;
const expected = new Map<string, string>();
for (const entry of precache) {
  if (typeof entry !== 'string' && entry.integrity && !entry.url.startsWith('model/'))
    expected.set(new URL(entry.url, self.location.href).pathname, entry.integrity);
}

addPlugins([
  {
    async cachedResponseWillBeUsed({ cacheName, request, cachedResponse }) {
      const integrity = cachedResponse && expected.get(new URL(request.url).pathname);
      if (!cachedResponse || !integrity) return cachedResponse;
      if ((await integrityOf(await cachedResponse.clone().arrayBuffer())) === integrity) return cachedResponse;
      await (await caches.open(cacheName)).delete(request);
      return null;
    },
  },
]);

precacheAndRoute(precache, { ignoreURLParametersMatching: [/.*/] });

// LiteRT's wasm (9 MB), ONNX Runtime's (14 MB; 26 MB for WebGPU), the models' .tflite files and the
// distillation students (public/students) are fetched only where used, and used only where it won:
// precaching them would cost every visitor 13 MB. The worker that verified each keeps it in
// KEPT_CACHE (workers/kept-files.ts), so a device that runs LiteRT keeps running it offline, and
// a smaller model can be made offline once one was; every use checks the bytes against their
// sha256 and evicts a copy that fails. The route answers from that cache and never writes to it
// (only a worker, after checking, does), and only the app's own requests: LiteRT's wasm by its
// hashed name, a model's .tflite at its versioned URL, a student by its name, never a navigation.
// Otherwise any page could make this origin store a 9 MB copy per query string it invents.
registerRoute(
  ({ url, request }) =>
    url.origin === self.location.origin &&
    request.mode !== 'navigate' &&
    ((/\/(litert_wasm_|ort-wasm-simd-threaded)[\w.-]+\.wasm$/.test(url.pathname) && url.search === '') ||
      (url.pathname.endsWith(`/${TFLITE_FILE}`) && /^\?v=[0-9a-f]{16}$/.test(url.search)) ||
      (/\/students\/[\w.-]+\.tflite$/.test(url.pathname) && url.search === '')),
  new CacheFirst({
    cacheName: KEPT_CACHE,
    plugins: [new CacheableResponsePlugin({ statuses: [200] }), { cacheWillUpdate: async () => null }],
  }),
);
cleanupOutdatedCaches();
clientsClaim();

// The page's "Update available — Reload" (vite-plugin-pwa's prompt mode) asks the waiting worker to take over.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
