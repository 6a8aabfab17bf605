import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildApp, buildStamp, releaseLabel, SETTINGS_STAMP } from '../build/app';
import { serve } from './serve';
import { readSettings, type DeploySettings } from './settings';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const SOURCES = ['src', 'workers', 'public', 'host', 'build', 'index.html', 'embed.html', 'vite.config.ts', 'vite.embed-helper.config.ts', 'package.json'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds only when dist/ is missing, older than a source file or the model, or built for other settings or another model. */
function isStale(settings: DeploySettings, model: string | undefined): boolean {
  const stamp = join(dist, SETTINGS_STAMP);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== buildStamp(settings, model)) return true;
  const builtAt = statSync(stamp).mtimeMs;
  return [...SOURCES.map((s) => join(root, s)), ...(model ? [model] : [])].some((path) => existsSync(path) && newestMtime(path) > builtAt);
}

const settings = readSettings();
// GLIMPSE_MODEL: a folder, .zip or .tflite to ship as the site's model instead of public/model.
const model = process.env.GLIMPSE_MODEL || undefined;
if (isStale(settings, model)) {
  console.log('Building Glimpse…');
  await buildApp(dist, settings, releaseLabel(), model);
}
const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 4173);
const server = await serve({ dir: dist, host, port, settings });
console.log(`Glimpse is being served at http://${host}:${port}/`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
