import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildStamp, SETTINGS_STAMP, type ModelSources } from '../build/app';
import type { DeploySettings } from '../build/deploy-settings';

const ROOT = resolve(import.meta.dirname, '..');
const SOURCES = [
  'src',
  'workers',
  'model',
  'public',
  'host',
  'build',
  'index.html',
  'embed.html',
  'vite.config.ts',
  'vite.embed-helper.config.ts',
  'package.json',
];

/** The models a build in `dist` was made for, from its stamp; null where there is no readable stamp. */
export function lastBuildSources(dist: string): ModelSources | null {
  try {
    const stamp = JSON.parse(readFileSync(join(dist, SETTINGS_STAMP), 'utf8')) as { model?: unknown; models?: unknown };
    const path = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
    return { model: path(stamp.model), models: path(stamp.models) };
  } catch {
    return null;
  }
}

/**
 * What `npm start` serves: GLIMPSE_MODEL and GLIMPSE_MODELS when either is set (the one unset
 * means none), else what the last build was for, so that `npm run build -- --model DIR` and
 * then `npm start` serve that site and not a rebuild with the built-in model.
 */
export function modelSources(env: Record<string, string | undefined>, lastBuild: ModelSources | null): ModelSources {
  if (env.GLIMPSE_MODEL || env.GLIMPSE_MODELS)
    return { model: env.GLIMPSE_MODEL || undefined, models: env.GLIMPSE_MODELS || undefined };
  return lastBuild ?? {};
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Whether `dist` is missing, built for other settings or models, or older than a source file or model. */
export function isStale(dist: string, settings: DeploySettings, sources: ModelSources): boolean {
  const stamp = join(dist, SETTINGS_STAMP);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== buildStamp(settings, sources.model, sources.models))
    return true;
  const builtAt = statSync(stamp).mtimeMs;
  const inputs = [
    ...SOURCES.map((s) => join(ROOT, s)),
    ...[sources.model, sources.models].filter((p) => p !== undefined),
  ];
  return inputs.some((path) => existsSync(path) && newestMtime(path) > builtAt);
}

function modelName(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as { name?: string }).name ?? 'unnamed';
  } catch {
    return 'unnamed';
  }
}

/** One line per model the build in `dist` serves, for the host's start-up message. */
export function describeServed(dist: string, sources: ModelSources): string[] {
  const shown = (path: string) =>
    relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path) || '.';
  const from = (path: string | undefined, fallback: string) => (path ? shown(path) : fallback);
  const lines = [`model: ${modelName(join(dist, 'model'))} (from ${from(sources.model, 'public/model')})`];
  const catalogue = join(dist, 'models', 'catalogue.json');
  if (existsSync(catalogue)) {
    for (const { id, name } of JSON.parse(readFileSync(catalogue, 'utf8')) as { id: string; name: string }[]) {
      lines.push(
        `shipped model ${id}: ${name} (from ${from(sources.models && join(sources.models, id), 'public/models')}; embed.html?model=${id})`,
      );
    }
  }
  return lines;
}
