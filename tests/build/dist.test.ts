import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const assets = () => readdirSync(join(DIST, 'assets'));
const text = (path: string) => readFileSync(path, 'utf8');

describe('dist/', () => {
  it('has been built', () => {
    expect(existsSync(join(DIST, 'index.html')), 'run npm run build first').toBe(true);
  });

  it('ships the model byte for byte as it is in public/model', () => {
    for (const name of readdirSync(join(ROOT, 'public/model'))) {
      expect(readFileSync(join(DIST, 'model', name)).equals(readFileSync(join(ROOT, 'public/model', name))), name).toBe(
        true,
      );
    }
  });

  it('preloads from the app page every model file a load reads, at the versioned URLs the app asks for, and nothing from the embed page', () => {
    const manifest = JSON.parse(text(join(DIST, 'model/manifest.json'))) as {
      version: string;
      files: Record<string, unknown>;
    };
    const preloads = (page: string) =>
      [...text(join(DIST, page)).matchAll(/<link rel="preload" as="fetch" crossorigin="anonymous" href="([^"]+)">/g)]
        .map((m) => m[1])
        .sort();
    const read = Object.keys(manifest.files).filter(
      (name) => name !== 'model.tflite' && !/^LICENSE|^README/i.test(name),
    );
    expect(preloads('index.html')).toEqual(
      ['model/manifest.json', ...read.map((name) => `model/${name}?v=${manifest.version}`)].sort(),
    );
    expect(preloads('embed.html')).toEqual([]);
  });

  it('self-hosts all three tfjs wasm binaries under content-hashed names', () => {
    for (const flavour of ['tfjs-backend-wasm', 'tfjs-backend-wasm-simd', 'tfjs-backend-wasm-threaded-simd']) {
      expect(
        assets().some((a) => new RegExp(`^${flavour}-[\\w-]{8}\\.wasm$`).test(a)),
        flavour,
      ).toBe(true);
    }
  });

  it('builds the classifier as a module worker and keeps the GPU backends out of it (loaded on demand)', () => {
    const worker = assets().find((a) => a.startsWith('classifier.worker-') && a.endsWith('.js'));
    expect(worker).toBeDefined();
    const code = text(join(DIST, 'assets', worker!));
    expect(code).not.toMatch(/WebGPUBackend|class \w+ extends \w+\{constructor\(\w+\)\{super\(\);this\.gpgpu/);
    expect(code).toMatch(/import\(/);
  });

  it('has no inline script or style in index.html, so a strict CSP holds', () => {
    const html = text(join(DIST, 'index.html'));
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
  });

  it('names no outside host the app could load from: only documentation links in library messages', () => {
    const DOC_HOSTS = new Set([
      'www.w3.org',
      'svelte.dev',
      'github.com',
      'www.shadertoy.com',
      'arxiv.org',
      'developer.mozilla.org',
      'emscripten.org',
      'en.wikipedia.org',
      'bit.ly',
      'web.dev',
      'rolldown.rs',
    ]);
    const hosts = new Set<string>();
    for (const file of files(DIST).filter((f) => /\.(js|html|css|json|webmanifest)$/.test(f))) {
      for (const [, host] of text(file).matchAll(/https?:\/\/([a-z0-9.-]+)/gi)) hosts.add(host!);
    }
    expect([...hosts].filter((h) => !DOC_HOSTS.has(h))).toEqual([]);
  });

  it('ships the third-party licence notices of the page and of the worker', () => {
    expect(text(join(DIST, 'licenses.md'))).toMatch(/svelte/);
    const worker = text(join(DIST, 'licenses-worker.md'));
    for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'comlink'])
      expect(worker).toContain(`Name: ${name}`);
  });
});
