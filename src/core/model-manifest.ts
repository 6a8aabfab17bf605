import { ModelIntegrityError } from './errors.ts';

/**
 * Every file of a model with its exact length and sha256, and a version derived from
 * them. Written at build time; the loader checks each download against it before
 * tfjs sees a byte (tfjs itself checks neither status, length nor content).
 */
export interface ModelManifest {
  version: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

export const MANIFEST_FILE = 'manifest.json';
/** The files every tfjs load reads first; the weight shards come with them. */
export const JSON_FILES = ['model.json', 'metadata.json', 'labels.json'];
/** The model's TFLite form, which LiteRT runs; tfjs never needs it. */
export const TFLITE_FILE = 'model.tflite';
/** An ONNX model's graph and weights, which ONNX Runtime runs (in place of model.json and its shards). */
export const ONNX_FILE = 'model.onnx';
/** The files an ONNX model's load reads besides the .onnx. */
export const ONNX_JSON_FILES = ['metadata.json', 'labels.json'];
/** Plain file names only: no directories, no `..`, no URLs. */
const FILE_NAME = /^(?!\.)[\w.-]{1,128}$/;
const MAX_FILE_BYTES = 512 * 1024 * 1024;

/**
 * Where a model file is fetched from: its name with the model's version as a query. The page's
 * prefetch, the worker and the service worker's precache ask for this one URL, so a first visit
 * downloads each file once (the precache revalidates the copy in the HTTP cache instead of
 * fetching it afresh), and a new model is a new URL. The manifest, which names the version,
 * is the one file asked for without it.
 */
export function modelFileUrl(name: string, version: string, base: URL | string): URL {
  return new URL(versionedName(name, version), base);
}

/** A model file's versioned URL relative to its model's folder (the precache lists these). */
export function versionedName(name: string, version: string): string {
  return `${name}?v=${version}`;
}

export function isPlainFileName(name: string): boolean {
  // Files are keyed by name in plain objects: `__proto__` or `constructor` would be lost or clash there.
  return FILE_NAME.test(name) && !name.includes('..') && !(name in Object.prototype);
}

export async function sha256Hex(bytes: BufferSource): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The version changes whenever any file's name, length or content does. */
export async function manifestVersion(files: ModelManifest['files']): Promise<string> {
  const lines = Object.keys(files)
    .sort()
    .map((name) => `${name} ${files[name]!.bytes} ${files[name]!.sha256}\n`)
    .join('');
  return (await sha256Hex(new TextEncoder().encode(lines))).slice(0, 16);
}

export function parseModelManifest(json: unknown): ModelManifest {
  const bad = (why: string): never => {
    throw new ModelIntegrityError(`${MANIFEST_FILE}: ${why}`);
  };
  if (typeof json !== 'object' || json === null) bad('not an object');
  const { version, files } = json as Record<string, unknown>;
  if (typeof version !== 'string' || !/^[0-9a-f]{16}$/.test(version)) bad('no version');
  if (typeof files !== 'object' || files === null || Array.isArray(files)) bad('no file list');
  const out: ModelManifest['files'] = {};
  for (const [name, entry] of Object.entries(files as Record<string, unknown>)) {
    if (!isPlainFileName(name)) bad(`"${name}" is not a plain file name`);
    const { bytes, sha256 } = (entry ?? {}) as Record<string, unknown>;
    if (!Number.isInteger(bytes) || (bytes as number) < 0 || (bytes as number) > MAX_FILE_BYTES)
      bad(`${name}: bad length`);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) bad(`${name}: bad sha256`);
    out[name] = { bytes: bytes as number, sha256: sha256 as string };
  }
  return { version: version as string, files: out };
}

/** A licence or readme shipped beside the model: listed and verified, never loaded. */
export function isNoticeFile(name: string): boolean {
  return /^(LICENSE|README|NOTICE)/i.test(name);
}

/** Every file a load reads (a tfjs model's JSON and shards, or an ONNX model's .onnx); the .tflite only where LiteRT is tried. */
export function loadedFiles(manifest: ModelManifest): string[] {
  return Object.keys(manifest.files).filter((name) => name !== TFLITE_FILE && !isNoticeFile(name));
}

/** The weight shards a load fetches with the JSON files: every listed file but the .tflite and notices. */
export function shardNames(manifest: ModelManifest): string[] {
  return Object.keys(manifest.files).filter(
    (name) => !JSON_FILES.includes(name) && !isNoticeFile(name) && name !== TFLITE_FILE && name !== ONNX_FILE,
  );
}
