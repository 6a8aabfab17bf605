import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { ModelIntegrityError, StorageFullError } from '../src/core/errors';
import { MANIFEST_FILE, manifestVersion, parseModelManifest } from '../src/core/model-manifest';
import { recordFetcher, withManifest } from '../model/model-records';
import { BUILTIN_MODEL, type StoredModel } from '../src/core/classifier-types';
import type { PreparedModel } from '../model/prepared-model';

/**
 * The user's own models, kept in IndexedDB (the storage a worker has) with a manifest of
 * every file's length and sha256, as the shipped model has: loading one goes through the
 * same verified loader. A stored model cannot be repaired from a server, so one that
 * fails its check is reported, and can be removed.
 */
const LIST = 'models';
const ACTIVE = 'active';

let store: UseStore | null = null;
const db = () => (store ??= createStore('glimpse-models', 'models'));
const filesKey = (id: string) => `files:${id}`;

function storageError(error: unknown): never {
  if ((error as Error)?.name === 'QuotaExceededError')
    throw new StorageFullError('the browser refused to store the model (quota)');
  throw error;
}

export async function listModels(): Promise<StoredModel[]> {
  return (await get<StoredModel[]>(LIST, db())) ?? [];
}

/** The model to run: a stored one the user chose, else the built-in one (also where there is no IndexedDB). */
export async function activeModel(): Promise<string> {
  try {
    return (await get<string>(ACTIVE, db())) ?? BUILTIN_MODEL;
  } catch {
    return BUILTIN_MODEL;
  }
}

export async function setActiveModel(id: string): Promise<void> {
  await set(ACTIVE, id, db()).catch(() => undefined);
}

/** Stores a prepared model under its content version; the same model imported twice is kept once. */
export async function saveModel(prepared: PreparedModel, sourceName: string): Promise<StoredModel> {
  const record = await withManifest(prepared.files);
  const entry: StoredModel = {
    id: record.version,
    name: prepared.name,
    format: prepared.format,
    source: sourceName,
    classes: prepared.labels.length,
    bytes: Object.values(prepared.files).reduce((n, f) => n + f.byteLength, 0),
    addedAt: new Date().toISOString(),
    preprocessing: prepared.preprocessing,
    ...(prepared.numbered ? { numbered: true } : {}),
    ...(prepared.about ? { about: prepared.about } : {}),
    ...(prepared.check ? { check: prepared.check } : {}),
  };
  await set(filesKey(entry.id), record.files, db()).catch(storageError);
  const others = (await listModels()).filter((m) => m.id !== entry.id);
  await set(LIST, [...others, entry], db()).catch(storageError);
  return entry;
}

export async function deleteModel(id: string): Promise<void> {
  await set(
    LIST,
    (await listModels()).filter((m) => m.id !== id),
    db(),
  );
  await del(filesKey(id), db());
  if ((await activeModel()) === id) await setActiveModel(BUILTIN_MODEL);
}

/**
 * A stored model's files, read as the verified loader reads a server: by URL, as responses.
 * The loader checks each file against the manifest; the manifest itself is checked here
 * against the model's id, the version its entries make when it was stored, so that a file
 * and its manifest entry changed together in storage are caught too.
 */
export async function storedFetcher(id: string): Promise<typeof fetch> {
  const files = await get<Record<string, Uint8Array>>(filesKey(id), db());
  if (!files) throw new ModelIntegrityError(`the stored model ${id} has no files`);
  const manifest = files[MANIFEST_FILE];
  let version: string | null = null;
  try {
    version = await manifestVersion(parseModelManifest(JSON.parse(new TextDecoder().decode(manifest))).files);
  } catch {
    // Reported below: a missing or unreadable manifest makes no version.
  }
  if (version !== id)
    throw new ModelIntegrityError(
      `the stored copy of model ${id} was changed: its files make version ${version ?? 'none'}`,
    );
  return recordFetcher(
    { files },
    (name) =>
      new ModelIntegrityError(`the stored copy of model ${id} lacks ${name}: it was damaged in this browser's storage`),
  );
}

/** The stored files of a model, to change its metadata and store it again. */
export async function storedFiles(id: string): Promise<Record<string, Uint8Array> | undefined> {
  return get<Record<string, Uint8Array>>(filesKey(id), db());
}
