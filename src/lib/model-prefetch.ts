import { loadedFiles, MANIFEST_FILE, modelFileUrl, parseModelManifest } from '../core/model-manifest';

/**
 * Starts the model's download from the page's first chunk (src/main.ts) while the worker's script is still being
 * fetched and compiled (the worker asks for the model only once it runs, ~300 ms later on
 * a first visit). The files land in the HTTP cache, where the worker's own requests find
 * them: it still checks every byte against the manifest, and refetches past the cache if a
 * file fails. Nothing to gain where a service worker already serves the offline copy.
 */
export function prefetchModel(baseUrl: string): void {
  const base = new URL(baseUrl, location.href);
  if (navigator.serviceWorker?.controller) {
    // The page's <link rel=preload> of the model files, answered from the offline copy: taken up here,
    // unread, or the browser warns on every visit that they went unused.
    for (const link of document.querySelectorAll<HTMLLinkElement>('link[rel="preload"][as="fetch"]'))
      void fetch(link.href).then(
        (r) => r.body?.cancel(),
        () => undefined,
      );
    return;
  }
  const read = async (url: URL) => (await fetch(url, { priority: 'high' })).arrayBuffer();
  void (async () => {
    const manifest = parseModelManifest(JSON.parse(new TextDecoder().decode(await read(new URL(MANIFEST_FILE, base)))));
    await Promise.all(loadedFiles(manifest).map((name) => read(modelFileUrl(name, manifest.version, base))));
  })().catch(() => undefined);
}
