import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VitePWAOptions } from 'vite-plugin-pwa';
import { MANIFEST_FILE, parseModelManifest } from '../src/core/model-manifest.ts';

type ManifestEntry = { url: string; revision: string | null; integrity?: string; size: number };

/**
 * Model files live in public/, so Vite gives them no content hash: their precache
 * entries are keyed by the model version instead, so an app-only update leaves them
 * cached. Each also carries its SRI hash, which makes Workbox verify the download on
 * install and repair a missing cache entry from the network.
 */
function modelEntries(outDir: string) {
  return (entries: ManifestEntry[]) => {
    const { version } = parseModelManifest(JSON.parse(readFileSync(join(outDir, 'model', MANIFEST_FILE), 'utf8')));
    const manifest = entries.map((entry) => {
      if (!entry.url.startsWith('model/')) return entry;
      const integrity = `sha256-${createHash('sha256').update(readFileSync(join(outDir, entry.url))).digest('base64')}`;
      return { ...entry, revision: version, integrity };
    });
    return { manifest, warnings: [] };
  };
}

export function pwaOptions(outDir: string): Partial<VitePWAOptions> {
  return {
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
    workbox: {
      // Shards may lack an extension (as nsfwjs's do): every file of the model is precached.
      globPatterns: ['**/*.{html,js,css,wasm,svg,png}', 'model/*'],
      globIgnores: ['embed.js', 'licenses*.md'],
      // The worker chunk and the model shard exceed Workbox's 2 MiB default.
      maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
      // Honest 404s: an unknown URL must never turn into index.html.
      navigateFallback: null,
      // `/?backend=webgl` is still the precached page.
      ignoreURLParametersMatching: [/.*/],
      clientsClaim: true,
      cleanupOutdatedCaches: true,
      manifestTransforms: [modelEntries(outDir)],
    },
  };
}
