import { MANIFEST_FILE, manifestVersion, sha256Hex, type ModelManifest } from '../src/core/model-manifest';

/** A model held as files in memory (a stored model, an import, a model a tool read from disk), served as the verified loader fetches. */

/** A model's files with their manifest (every file's length and sha256, and the version they make). */
export async function withManifest(
  files: Record<string, Uint8Array>,
): Promise<{ version: string; files: Record<string, Uint8Array> }> {
  const entries: ModelManifest['files'] = {};
  for (const [name, bytes] of Object.entries(files))
    entries[name] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes as Uint8Array<ArrayBuffer>) };
  const manifest: ModelManifest = { version: await manifestVersion(entries), files: entries };
  return {
    version: manifest.version,
    files: { ...files, [MANIFEST_FILE]: new TextEncoder().encode(JSON.stringify(manifest)) },
  };
}

/** Files in memory, served by name as the verified loader fetches them; a missing one is `missing(name)`, else a 404. */
export function recordFetcher(
  record: { files: Record<string, Uint8Array> },
  missing?: (name: string) => Error,
): typeof fetch {
  return async (input) => {
    const name = decodeURIComponent(new URL(String(input)).pathname.split('/').pop() ?? '');
    const bytes = Object.hasOwn(record.files, name) ? record.files[name] : undefined;
    if (bytes) return new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200 });
    if (missing) throw missing(name);
    return new Response(null, { status: 404 });
  };
}
