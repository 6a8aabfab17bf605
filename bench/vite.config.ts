import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/** The benchmark's other pages (the tfjs baseline, the LiteRT.js, MediaPipe and onnxruntime-web peers), built to dist-bench/ (never part of dist/). */
export default defineConfig({
  root: import.meta.dirname,
  publicDir: resolve(import.meta.dirname, '../public'),
  build: {
    outDir: resolve(import.meta.dirname, '../dist-bench'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 5000,
    rolldownOptions: {
      input: {
        baseline: resolve(import.meta.dirname, 'index.html'),
        litert: resolve(import.meta.dirname, 'litert/index.html'),
        mediapipe: resolve(import.meta.dirname, 'mediapipe/index.html'),
        onnx: resolve(import.meta.dirname, 'onnx/index.html'),
      },
    },
  },
  logLevel: 'warn',
});
