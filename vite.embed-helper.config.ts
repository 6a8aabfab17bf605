import { defineConfig } from 'vite';

/** embed.js: one classic script with a stable URL, so any host page can load it with a <script> tag. */
export default defineConfig({
  publicDir: false,
  build: {
    // build/app.ts passes its output folder.
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2020',
    lib: { entry: 'src/embed-helper/glimpse-embed.ts', formats: ['iife'], name: 'Glimpse', fileName: () => 'embed.js' },
  },
});
