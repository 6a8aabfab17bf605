import { svelte } from '@sveltejs/vite-plugin-svelte';
import license from 'rollup-plugin-license';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { manifestFileSha256 } from './host/model-manifest.ts';
import { pwaOptions } from './host/pwa.ts';
import { readSettings } from './host/settings.ts';

// tfjs repeats its licence header in every module; the notices ship once, in licenses.md.
const output = { comments: { legal: false } };
const outDir = process.env.GLIMPSE_OUT_DIR ?? 'dist';
const settings = readSettings();
// Under cross-origin isolation tfjs runs threaded wasm, whose pthread code it copies by
// toString(): compressing the worker breaks it (BROWSER.md), mangling does not.
const workerOutput = settings.isolate ? { ...output, minify: { compress: false, mangle: true } } : output;

export default defineConfig({
  plugins: [svelte(), VitePWA(pwaOptions(outDir))],
  define: {
    __GLIMPSE_EMBED_ORIGINS__: JSON.stringify(settings.embedOrigins),
    __GLIMPSE_MODEL_MANIFEST_SHA256__: JSON.stringify(manifestFileSha256('public/model')),
    __GLIMPSE_RELEASE__: JSON.stringify(process.env.GLIMPSE_RELEASE ?? process.env.npm_package_version ?? 'dev'),
  },
  worker: {
    format: 'es',
    rolldownOptions: { output: workerOutput },
    // Vite's `build.license` covers only the page bundle; the worker (tfjs) gets its own notices,
    // written while the page is still bundling: hence host/build.ts empties the output, not Vite.
    plugins: () => [license({ thirdParty: { output: { file: `${outDir}/licenses-worker.md` } } })],
  },
  build: {
    outDir,
    target: 'es2022',
    chunkSizeWarningLimit: 3000,
    emptyOutDir: false,
    license: { fileName: 'licenses.md' },
    rolldownOptions: { input: ['index.html', 'embed.html'], output },
  },
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
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
