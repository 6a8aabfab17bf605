import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { writeModelManifest } from './model-manifest';
import { readSettings, type DeploySettings } from '../host/settings';
import { renderHeadersFile, siteRoutes } from '../host/static-hosts';
import { appConfig } from '../vite.config';
import { prepareImport } from '../workers/model-import';

export const SETTINGS_STAMP = '.glimpse-settings.json';

const ROOT = resolve(import.meta.dirname, '..');

/** GLIMPSE_RELEASE, else the package version: the release label the app shows. */
export function releaseLabel(env: Record<string, string | undefined> = process.env): string {
  return env.GLIMPSE_RELEASE || (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** What a build was made for: the deploy settings and the model it ships. */
export function buildStamp(settings: DeploySettings, model: string | undefined): string {
  return JSON.stringify({ ...settings, model: model ? resolve(model) : null });
}

/**
 * A copy of public/ whose model/ is the user's model (a folder of files, a .zip or a
 * .tflite with labels beside it), prepared and checked as the app's import does, with
 * its licence notice when the folder has one.
 */
function publicDirWithModel(model: string): string {
  const path = resolve(model);
  const sources = statSync(path).isDirectory() ? readdirSync(path).filter((n) => !n.startsWith('.')).map((n) => join(path, n)) : [path];
  const given = sources.filter((p) => statSync(p).isFile()).map((p) => ({ name: basename(p), bytes: new Uint8Array(readFileSync(p)) }));
  const prepared = prepareImport(given);
  const stage = mkdtempSync(join(tmpdir(), 'glimpse-public-'));
  cpSync(join(ROOT, 'public'), stage, { recursive: true });
  rmSync(join(stage, 'model'), { recursive: true, force: true });
  mkdirSync(join(stage, 'model'));
  for (const [name, bytes] of Object.entries(prepared.files)) writeFileSync(join(stage, 'model', name), bytes);
  const licence = given.find((f) => /^(LICEN[CS]E|NOTICE)/i.test(f.name));
  if (licence) writeFileSync(join(stage, 'model', 'LICENSE'), licence.bytes);
  console.log(`model: ${prepared.name} (${prepared.format}, ${prepared.labels.length} classes; preprocessing ${prepared.preprocessing})`);
  return stage;
}

/**
 * `npm run build`: a clean dist/ built for the given deploy settings and model (by default
 * public/model), which are recorded beside the build so the host can tell a stale one.
 */
export async function buildApp(outDir: string, settings: DeploySettings = readSettings(), release = releaseLabel(), model?: string): Promise<void> {
  const publicDir = model ? publicDirWithModel(model) : join(ROOT, 'public');
  // Refreshed in place so that dev, build and the committed copy agree.
  await writeModelManifest(join(publicDir, 'model'));
  rmSync(outDir, { recursive: true, force: true });
  // Workbox picks its development build (unminified, verbose) from NODE_ENV, which test runners set.
  process.env.NODE_ENV = 'production';
  try {
    await build({ ...appConfig({ outDir, settings, release, publicDir }), configFile: false, logLevel: 'warn' });
  } finally {
    if (model) rmSync(publicDir, { recursive: true, force: true });
  }
  await build({ configFile: join(ROOT, 'vite.embed-helper.config.ts'), build: { outDir }, logLevel: 'warn' });
  // Netlify and Cloudflare Pages read the headers from the published folder itself.
  writeFileSync(join(outDir, '_headers'), renderHeadersFile(siteRoutes(outDir), settings));
  writeFileSync(join(outDir, SETTINGS_STAMP), buildStamp(settings, model));
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' }, model: { type: 'string' } } });
  const outDir = resolve(values['out-dir']);
  const model = values.model ?? process.env.GLIMPSE_MODEL;
  if (model && !existsSync(model)) throw new Error(`--model ${model}: no such file or folder`);
  await buildApp(outDir, readSettings(), releaseLabel(), model);
  console.log(`built ${outDir}`);
}
