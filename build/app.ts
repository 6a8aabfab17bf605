import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { manifestFileSha256, writeModelManifest } from './model-manifest';
import { readSettings, type DeploySettings } from './deploy-settings';
import { renderHeadersFile, siteRoutes } from './static-hosts';
import { appConfig } from '../vite.config';
import { prepareImport } from '../model/model-import';
import { readModelSource } from './model-source';

export const SETTINGS_STAMP = '.glimpse-settings.json';

const ROOT = resolve(import.meta.dirname, '..');

/** GLIMPSE_RELEASE, else the package version: the release label the app shows. */
export function releaseLabel(env: Record<string, string | undefined> = process.env): string {
  return (
    env.GLIMPSE_RELEASE || (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  );
}

/** The site's own model (a folder, .zip or .tflite) and a folder of shipped models, where not the defaults. */
export interface ModelSources {
  model?: string;
  models?: string;
}

/** What a build was made for: the deploy settings and the models it ships. */
export function buildStamp(settings: DeploySettings, model: string | undefined, models?: string): string {
  return JSON.stringify({ ...settings, model: model ? resolve(model) : null, models: models ? resolve(models) : null });
}

/** One shipped model of the catalogue (public/models/catalogue.json), as the app is built to expect it. */
export interface CatalogueEntry {
  id: string;
  name: string;
  classes: number;
  /** The sha256 of its manifest.json, which the app checks like the built-in model's. */
  manifestSha256: string;
}

/**
 * The user's model (a folder of files, a .zip, a .tflite or .onnx with labels beside it) written to
 * `dir`, prepared and checked as the app's import does, with its licence notice when the
 * folder has one.
 */
async function writePreparedModel(source: string, dir: string): Promise<{ name: string; classes: number }> {
  const given = readModelSource(source);
  const prepared = prepareImport(given);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(prepared.files)) writeFileSync(join(dir, name), bytes);
  const licence = given.find((f) => /^(LICEN[CS]E|NOTICE)/i.test(basename(f.name)));
  if (licence) writeFileSync(join(dir, 'LICENSE'), licence.bytes);
  await writeModelManifest(dir);
  console.log(
    `model ${basename(dir)}: ${prepared.name} (${prepared.format}, ${prepared.labels.length} classes; preprocessing ${prepared.preprocessing})`,
  );
  return { name: prepared.name, classes: prepared.labels.length };
}

/**
 * A copy of public/ with the site's own model in model/ and the shipped models (each
 * subfolder of `models`, named by its id) in models/<id>/, with models/catalogue.json.
 */
async function stagePublicDir(model: string | undefined, models: string | undefined): Promise<string> {
  const stage = mkdtempSync(join(tmpdir(), 'glimpse-public-'));
  cpSync(join(ROOT, 'public'), stage, { recursive: true });
  if (model) await writePreparedModel(model, join(stage, 'model'));
  if (models) {
    rmSync(join(stage, 'models'), { recursive: true, force: true });
    const catalogue: CatalogueEntry[] = [];
    for (const id of readdirSync(models)
      .filter((n) => statSync(join(models, n)).isDirectory())
      .sort()) {
      if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id))
        throw new Error(`${join(models, id)}: a model's folder name is its id: lowercase letters, digits, - and _`);
      const dir = join(stage, 'models', id);
      const { name, classes } = await writePreparedModel(join(models, id), dir);
      catalogue.push({ id, name, classes, manifestSha256: manifestFileSha256(dir) });
    }
    writeFileSync(join(stage, 'models', 'catalogue.json'), `${JSON.stringify(catalogue, null, 1)}\n`);
  }
  return stage;
}

/**
 * `npm run build`: a clean dist/ built for the given deploy settings and model (by default
 * public/model), which are recorded beside the build so the host can tell a stale one.
 */
export async function buildApp(
  outDir: string,
  settings: DeploySettings = readSettings(),
  release = releaseLabel(),
  model?: string,
  models?: string,
): Promise<void> {
  const staged = Boolean(model || models);
  const publicDir = staged ? await stagePublicDir(model, models) : join(ROOT, 'public');
  // Refreshed in place so that dev, build and the committed copy agree.
  await writeModelManifest(join(publicDir, 'model'));
  rmSync(outDir, { recursive: true, force: true });
  // Workbox picks its development build (unminified, verbose) from NODE_ENV, which test runners set.
  process.env.NODE_ENV = 'production';
  try {
    await build({ ...appConfig({ outDir, settings, release, publicDir }), configFile: false, logLevel: 'warn' });
  } finally {
    if (staged) rmSync(publicDir, { recursive: true, force: true });
  }
  await build({ configFile: join(ROOT, 'vite.embed-helper.config.ts'), build: { outDir }, logLevel: 'warn' });
  // Netlify and Cloudflare Pages read the headers from the published folder itself.
  writeFileSync(join(outDir, '_headers'), renderHeadersFile(siteRoutes(outDir), settings));
  writeFileSync(join(outDir, SETTINGS_STAMP), buildStamp(settings, model, models));
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: { 'out-dir': { type: 'string', default: 'dist' }, model: { type: 'string' }, models: { type: 'string' } },
  });
  const outDir = resolve(values['out-dir']);
  const model = values.model ?? process.env.GLIMPSE_MODEL;
  const models = values.models ?? process.env.GLIMPSE_MODELS;
  for (const [flag, path] of [
    ['--model', model],
    ['--models', models],
  ] as const)
    if (path && !existsSync(path)) throw new Error(`${flag} ${path}: no such file or folder`);
  await buildApp(outDir, readSettings(), releaseLabel(), model, models);
  console.log(`built ${outDir}`);
}
