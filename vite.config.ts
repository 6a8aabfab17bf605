import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import license, { type Dependency } from 'rollup-plugin-license';
import { defineConfig, type UserConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { manifestFileSha256, modelPreloads } from './build/model-manifest.ts';
import { pwaOptions } from './build/pwa.ts';
import { metaContentSecurityPolicy } from './build/headers.ts';
import { readSettings, type DeploySettings } from './build/deploy-settings.ts';

export interface AppBuildOptions {
  outDir: string;
  settings: DeploySettings;
  /** The release label shown in the app. */
  release: string;
  /** public/, or a copy of it with another model (npm run build -- --model DIR). */
  publicDir?: string;
}

const wasmSha256 = (file: string) =>
  createHash('sha256')
    .update(readFileSync(resolve(import.meta.dirname, 'node_modules', file)))
    .digest('hex');

/** The app's build, for the given options: `npm run build` (build/app.ts) passes them explicitly. */
/** A licence template for one build's workers: every worker bundled so far, each package once, in a stable order. */
function workerNotices(): (packages: Dependency[]) => string {
  const byPackage = new Map<string, string>();
  return (packages) => {
    for (const p of packages) byPackage.set(`${p.name}@${p.version}`, p.text());
    return [...byPackage]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, text]) => text)
      .join('\n\n---\n\n');
  };
}

export function appConfig({
  outDir,
  settings,
  release,
  publicDir = resolve(import.meta.dirname, 'public'),
}: AppBuildOptions): UserConfig {
  const notices = workerNotices();
  // tfjs repeats its licence header in every module; the notices ship once, in licenses.md.
  const output = { comments: { legal: false } };
  // Under cross-origin isolation tfjs runs threaded wasm, whose pthread code it copies by
  // toString(): compressing the worker breaks it (docs/BROWSER.md), mangling does not.
  const workerOutput = settings.isolate ? { ...output, minify: { compress: false, mangle: true } } : output;
  return {
    root: import.meta.dirname,
    publicDir,
    plugins: [
      svelte(),
      VitePWA(pwaOptions(outDir)),
      // The header CSP as a <meta> too, for static hosts that cannot send headers, and the
      // app page's model preloads. No plugin derives either from our own lists.
      {
        name: 'glimpse-head-tags',
        transformIndexHtml: (_, { path }) => [
          {
            tag: 'meta',
            attrs: { 'http-equiv': 'Content-Security-Policy', content: metaContentSecurityPolicy(settings) },
            injectTo: 'head-prepend',
          },
          ...(path === '/index.html' ? modelPreloads(resolve(publicDir, 'model')) : []),
        ],
      },
    ],
    define: {
      __GLIMPSE_EMBED_ORIGINS__: JSON.stringify(settings.embedOrigins),
      __GLIMPSE_MODEL_MANIFEST_SHA256__: JSON.stringify(manifestFileSha256(resolve(publicDir, 'model'))),
      __GLIMPSE_SHIPPED_MODELS__: JSON.stringify(
        existsSync(resolve(publicDir, 'models/catalogue.json'))
          ? JSON.parse(readFileSync(resolve(publicDir, 'models/catalogue.json'), 'utf8'))
          : [],
      ),
      __GLIMPSE_BUILTIN_MODEL_NAME__: JSON.stringify(
        (JSON.parse(readFileSync(resolve(publicDir, 'model/metadata.json'), 'utf8')) as { name: string }).name,
      ),
      __GLIMPSE_RELEASE__: JSON.stringify(release),
      __GLIMPSE_LITERT_WASM_SHA256__: JSON.stringify({
        single: wasmSha256('@litertjs/core/wasm/litert_wasm_internal.wasm'),
        threaded: wasmSha256('@litertjs/core/wasm/litert_wasm_threaded_internal.wasm'),
      }),
      __GLIMPSE_ONNX_WASM_SHA256__: JSON.stringify({
        plain: wasmSha256('onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'),
        gpu: wasmSha256('onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm'),
      }),
      __GLIMPSE_ISOLATE__: JSON.stringify(settings.isolate),
    },
    worker: {
      format: 'es',
      rolldownOptions: { output: workerOutput },
      // Vite's `build.license` covers only the page bundle; the workers (tfjs; the model importer) get their
      // own notices, written while the page is still bundling: hence build/app.ts empties the output, not Vite.
      // Each worker is bundled apart, so every one's packages are gathered into the one file.
      plugins: () => [license({ thirdParty: { output: { file: `${outDir}/licenses-worker.md`, template: notices } } })],
    },
    build: {
      outDir,
      target: 'es2022',
      chunkSizeWarningLimit: 3000,
      emptyOutDir: false,
      license: { fileName: 'licenses.md' },
      rolldownOptions: { input: ['index.html', 'embed.html'], output },
    },
  };
}

// `vite` (the dev server) and vitest read this file; the settings come from the environment.
export default defineConfig({
  ...appConfig({
    outDir: resolve(import.meta.dirname, 'dist'),
    settings: readSettings(),
    release: process.env.GLIMPSE_RELEASE ?? 'dev',
  }),
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    // Polls wait for work a busy machine may take long over, never one fixed second.
    expect: { poll: { timeout: 60_000 } },
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], testTimeout: 30_000 } },
      { extends: true, test: { name: 'build', include: ['tests/build/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
