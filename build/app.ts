import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { writeModelManifest } from './model-manifest';
import { readSettings, type DeploySettings } from '../host/settings';
import { renderHeadersFile, siteRoutes } from '../host/static-hosts';
import { appConfig } from '../vite.config';

export const SETTINGS_STAMP = '.glimpse-settings.json';

const ROOT = resolve(import.meta.dirname, '..');

/** GLIMPSE_RELEASE, else the package version: the release label the app shows. */
export function releaseLabel(env: Record<string, string | undefined> = process.env): string {
  return env.GLIMPSE_RELEASE || (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * `npm run build`: a clean dist/ built for the given deploy settings, which are recorded
 * beside the build so the host can tell a stale one.
 */
export async function buildApp(outDir: string, settings: DeploySettings = readSettings(), release = releaseLabel()): Promise<void> {
  // Refreshed in public/ so that dev, build and the committed copy agree.
  await writeModelManifest(join(ROOT, 'public/model'));
  rmSync(outDir, { recursive: true, force: true });
  // Workbox picks its development build (unminified, verbose) from NODE_ENV, which test runners set.
  process.env.NODE_ENV = 'production';
  await build({ ...appConfig({ outDir, settings, release }), configFile: false, logLevel: 'warn' });
  await build({ configFile: join(ROOT, 'vite.embed-helper.config.ts'), build: { outDir }, logLevel: 'warn' });
  // Netlify and Cloudflare Pages read the headers from the published folder itself.
  writeFileSync(join(outDir, '_headers'), renderHeadersFile(siteRoutes(outDir), settings));
  writeFileSync(join(outDir, SETTINGS_STAMP), JSON.stringify(settings));
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
  const outDir = resolve(values['out-dir']);
  await buildApp(outDir, readSettings());
  console.log(`built ${outDir}`);
}
