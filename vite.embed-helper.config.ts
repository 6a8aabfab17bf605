import { defineConfig } from 'vite';

/** embed.js: one classic script with a stable URL, so any host page can load it with a <script> tag. */
export default defineConfig({
  publicDir: false,
  build: {
    outDir: process.env.GLIMPSE_OUT_DIR ?? 'dist',
    emptyOutDir: false,
    target: 'es2020',
    lib: { entry: 'src/embed-helper/glimpse-embed.ts', formats: ['iife'], name: 'Glimpse', fileName: () => 'embed.js' },
  },
});
