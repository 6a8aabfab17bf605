import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelManifest } from '../../src/core/model-manifest';

const DIST = resolve(import.meta.dirname, '../../dist');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(DIST, path)];
  });
}

/** The precache list vite-plugin-pwa injects into sw.js, as JSON objects. */
function precached(): { url: string; revision: string | null; integrity?: string }[] {
  const sw = readFileSync(join(DIST, 'sw.js'), 'utf8');
  return [...sw.matchAll(/\{[^{}]*"url":"[^"]+"[^{}]*\}/g)].map(([entry]) => JSON.parse(entry!));
}

/** A precached URL's file: model files are listed at their versioned URLs (`?v=<model version>`). */
const fileOf = (url: string) => url.split('?')[0]!;
const sri = (path: string) =>
  `sha256-${createHash('sha256')
    .update(readFileSync(join(DIST, path)))
    .digest('base64')}`;

/**
 * Files that are not part of the offline app: the service worker itself, its runtime, notices, the embedders' helper, and
 * the distillation students (public/students), fetched only when a smaller model is made: every install would pay for them.
 */
const NOT_PRECACHED =
  /^(sw\.js|workbox-[\w-]+\.js|embed\.js|licenses(-worker)?\.md|\.glimpse-settings\.json|_headers|students\/.*)$/;
/** LiteRT's and ONNX Runtime's wasm and the .tflite files: kept when first used, on the devices that run them (workers/sw.ts). */
const KEPT_WHEN_USED = /(^|\/)(litert_wasm_[\w-]+\.wasm|ort-wasm-simd-threaded[\w.-]+\.wasm|[\w-]+\.tflite)$/;

describe('precache (dist/sw.js)', () => {
  it('lists every app asset, wasm binary, page, icon and model file exactly once', () => {
    const urls = precached().map((e) => fileOf(e.url));
    expect(new Set(urls).size).toBe(urls.length);
    const expected = files(DIST).filter((f) => !NOT_PRECACHED.test(f) && !KEPT_WHEN_USED.test(f));
    expect(files(DIST).filter((f) => KEPT_WHEN_USED.test(f)).length).toBeGreaterThanOrEqual(4);
    expect([...urls].sort()).toEqual(
      [...expected, 'manifest.webmanifest'].filter((f, i, all) => all.indexOf(f) === i).sort(),
    );
    expect(urls.filter((u) => u.endsWith('.wasm'))).toHaveLength(3);
  });

  it('does not precache the service worker or its runtime', () => {
    expect(precached().filter((e) => /^(sw\.js|workbox-)/.test(e.url))).toEqual([]);
  });

  it('keys model files by the model version, at the URLs the app loads them from, with their sha256 as SRI, matching the model manifest', () => {
    const manifest = parseModelManifest(JSON.parse(readFileSync(join(DIST, 'model/manifest.json'), 'utf8')));
    const model = precached().filter((e) => e.url.startsWith('model/'));
    expect(model.map((e) => fileOf(e.url).slice('model/'.length)).sort()).toEqual(
      [...Object.keys(manifest.files).filter((f) => !KEPT_WHEN_USED.test(f)), 'manifest.json'].sort(),
    );
    for (const entry of model) {
      const name = fileOf(entry.url).slice('model/'.length);
      // The manifest names the version and the licence is a page of its own: both at their plain URLs, revisioned.
      if (name === 'manifest.json' || name === 'LICENSE')
        expect([entry.url, entry.revision]).toEqual([`model/${name}`, manifest.version]);
      else expect([entry.url, entry.revision]).toEqual([`model/${name}?v=${manifest.version}`, null]);
      if (name !== 'manifest.json')
        expect(entry.integrity).toBe(`sha256-${Buffer.from(manifest.files[name]!.sha256, 'hex').toString('base64')}`);
    }
  });

  it('gives every entry the SRI hash of the built file, so the service worker can check what it serves', () => {
    // The web app manifest is added by vite-plugin-pwa after the transforms run; it holds no script.
    for (const entry of precached().filter((e) => e.url !== 'manifest.webmanifest'))
      expect(entry.integrity, entry.url).toBe(sri(fileOf(entry.url)));
  });

  it('gives hashed assets and versioned model URLs no revision (their URL is their version) and everything else one', () => {
    for (const entry of precached())
      expect(entry.revision === null, entry.url).toBe(
        entry.url.startsWith('assets/') || /^model\/[^/?]+\?v=[0-9a-f]{16}$/.test(entry.url),
      );
  });
});
