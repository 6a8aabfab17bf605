import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { writeModelManifest } from './model-manifest';
import { readSettings, type DeploySettings } from './settings';

export const SETTINGS_STAMP = '.glimpse-settings.json';

/**
 * `npm run build`: a clean dist/ built for the deploy settings in the environment,
 * which are recorded beside the build so the host can tell a stale one.
 */
export async function buildApp(outDir: string, settings: DeploySettings = readSettings()): Promise<void> {
  // Refreshed in public/ so that dev, build and the committed copy agree.
  await writeModelManifest(resolve(import.meta.dirname, '../public/model'));
  rmSync(outDir, { recursive: true, force: true });
  process.env.GLIMPSE_OUT_DIR = outDir;
  // Workbox picks its development build (unminified, verbose) from NODE_ENV, which test runners set.
  process.env.NODE_ENV = 'production';
  await build({ logLevel: 'warn' });
  await build({ configFile: resolve(import.meta.dirname, '../vite.embed-helper.config.ts'), build: { outDir }, logLevel: 'warn' });
  writeFileSync(join(outDir, SETTINGS_STAMP), JSON.stringify(settings));
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
  const outDir = resolve(values['out-dir']);
  await buildApp(outDir, readSettings());
  console.log(`built ${outDir}`);
}
