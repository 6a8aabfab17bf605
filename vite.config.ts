import { svelte } from '@sveltejs/vite-plugin-svelte';
import license from 'rollup-plugin-license';
import { defineConfig } from 'vite';

// tfjs repeats its licence header in every module; the notices ship once, in licenses.md.
const output = { comments: { legal: false } };

export default defineConfig({
  plugins: [svelte()],
  worker: {
    format: 'es',
    rolldownOptions: { output },
    // Vite's `build.license` covers only the page bundle; the worker (tfjs) gets its own notices,
    // written while the page is still bundling: hence `npm run build` empties dist/, not Vite.
    plugins: () => [license({ thirdParty: { output: { file: 'dist/licenses-worker.md' } } })],
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 3000,
    emptyOutDir: false,
    license: { fileName: 'licenses.md' },
    rolldownOptions: { output },
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
