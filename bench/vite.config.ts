import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/** The benchmark's baseline page, built to dist-bench/ (never part of dist/). */
export default defineConfig({
  root: resolve(import.meta.dirname, 'baseline'),
  publicDir: resolve(import.meta.dirname, '../public'),
  build: { outDir: resolve(import.meta.dirname, '../dist-bench'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 5000 },
  logLevel: 'warn',
});
