import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vite.config.ts';

/** The tests on the large shared sets in ../shared (not in the repo): `npm run test:data`. */
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      include: ['tests/data/**/*.test.ts'],
      globalSetup: ['tests/e2e/global-setup.ts'],
      testTimeout: 900_000,
      hookTimeout: 120_000,
      fileParallelism: false,
    },
  }),
);
