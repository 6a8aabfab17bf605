import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HtmlTagDescriptor } from 'vite';
import {
  loadedFiles,
  MANIFEST_FILE,
  manifestVersion,
  parseModelManifest,
  sha256Hex,
  versionedName,
  type ModelManifest,
} from '../src/core/model-manifest.ts';

/** The manifest of every file in a model folder (but itself), as the loader will check it. */
export async function modelManifest(dir: string): Promise<ModelManifest> {
  const files: ModelManifest['files'] = {};
  for (const name of readdirSync(dir).sort()) {
    if (name === MANIFEST_FILE) continue;
    const bytes = readFileSync(join(dir, name));
    files[name] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  }
  return { version: await manifestVersion(files), files };
}

export async function writeModelManifest(dir: string): Promise<ModelManifest> {
  const manifest = await modelManifest(dir);
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

/** The sha256 of a model folder's manifest file, which the app is built to expect. */
export function manifestFileSha256(dir: string): string {
  return createHash('sha256')
    .update(readFileSync(join(dir, MANIFEST_FILE)))
    .digest('hex');
}

/**
 * Preload tags for the files a first visit's page asks for (src/lib/model-prefetch.ts), at the
 * same URLs: their download starts with the page's first bytes instead of after its script
 * and the manifest's round trip.
 */
export function modelPreloads(dir: string): HtmlTagDescriptor[] {
  const manifest = parseModelManifest(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')));
  const hrefs = [MANIFEST_FILE, ...loadedFiles(manifest).map((name) => versionedName(name, manifest.version))];
  return hrefs.map((href) => ({
    tag: 'link',
    attrs: { rel: 'preload', as: 'fetch', crossorigin: 'anonymous', href: `model/${href}` },
    injectTo: 'head',
  }));
}
