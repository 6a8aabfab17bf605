import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VitePWAOptions } from 'vite-plugin-pwa';
import { isNoticeFile, MANIFEST_FILE, parseModelManifest, versionedName } from '../src/core/model-manifest.ts';

type ManifestEntry = { url: string; revision: string | null; integrity?: string; size: number };

/**
 * Every precache entry carries its SRI hash: Workbox verifies the download on install
 * and when it repairs an entry, and the service worker (workers/sw.ts) checks cached
 * responses against it before serving them. Model files live in public/, so Vite gives
 * them no content hash: the files the app loads are precached at the versioned URLs it
 * fetches them from (modelFileUrl in src/core/model-manifest.ts), with no revision of their
 * own. So an app-only update leaves them cached, and the first visit's install revalidates
 * the copy the page has just downloaded instead of downloading it again (Workbox fetches
 * revisioned entries past the HTTP cache).
 */
function verifiedEntries(outDir: string) {
  const versions = new Map<string, string>();
  const versionOf = (dir: string) => {
    if (!versions.has(dir))
      versions.set(dir, parseModelManifest(JSON.parse(readFileSync(join(outDir, dir, MANIFEST_FILE), 'utf8'))).version);
    return versions.get(dir)!;
  };
  return (entries: ManifestEntry[]) => {
    const manifest = entries.map((entry) => {
      const integrity = `sha256-${createHash('sha256')
        .update(readFileSync(join(outDir, entry.url)))
        .digest('base64')}`;
      const modelFile = /^(model|models\/[^/]+)\/([^/]+)$/.exec(entry.url);
      if (!modelFile) return { ...entry, integrity };
      const [, dir, name] = modelFile as unknown as [string, string, string];
      const version = versionOf(dir);
      // The manifest is read unversioned (it names the version), notices at their plain URLs.
      if (name === MANIFEST_FILE || isNoticeFile(name)) return { ...entry, revision: version, integrity };
      return { ...entry, url: `${dir}/${versionedName(name, version)}`, revision: null, integrity };
    });
    return { manifest, warnings: [] };
  };
}

export function pwaOptions(outDir: string): Partial<VitePWAOptions> {
  return {
    strategies: 'injectManifest',
    srcDir: 'workers',
    filename: 'sw.ts',
    // The service worker's own Vite build reports only errors.
    integration: { configureCustomSWViteBuild: (config) => void (config.logLevel = 'error') },
    registerType: 'prompt',
    injectRegister: false,
    // The glob below already lists the icons.
    includeManifestIcons: false,
    manifest: {
      name: 'Glimpse — private image classification',
      short_name: 'Glimpse',
      description: 'Classify images in your browser. No image ever leaves your device.',
      display: 'standalone',
      start_url: '/',
      scope: '/',
      theme_color: '#2456d6',
      background_color: '#f7f7f5',
      icons: [
        { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
        { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      ],
    },
    // workers/sw.ts routes only precached URLs (so an unknown URL is an honest 404, never
    // index.html) and ignores query parameters (`/?backend=webgl` is the precached page).
    injectManifest: {
      // Shards may lack an extension (as nsfwjs's do): every file of the model is precached.
      globPatterns: ['**/*.{html,js,css,wasm,svg,png}', 'model/*', 'models/**/*'],
      // LiteRT's and ONNX Runtime's wasm and .tflite files are cached when first used instead (see workers/sw.ts).
      globIgnores: ['embed.js', 'licenses*.md', '**/litert_wasm_*.wasm', '**/ort-wasm-*.wasm', '**/*.tflite'],
      // The worker chunk and the model shard exceed Workbox's 2 MiB default.
      maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
      // A classic script: the ES-module build passes an option Rolldown warns is deprecated.
      rollupFormat: 'iife',
      manifestTransforms: [verifiedEntries(outDir)],
    },
  };
}
