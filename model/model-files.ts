import * as tf from '@tensorflow/tfjs-core';
import { isErrorName, ModelFormatError, ModelIntegrityError, ModelLoadError } from '../src/core/errors';
import {
  isPlainFileName,
  JSON_FILES,
  MANIFEST_FILE,
  modelFileUrl,
  ONNX_FILE,
  ONNX_JSON_FILES,
  parseModelManifest,
  sha256Hex,
  shardNames,
  TFLITE_FILE,
  type ModelManifest,
} from '../src/core/model-manifest';
import { parseLabels, parseModelSpec, type ModelSpec } from '../src/core/model-spec';
import { repairing } from './cache-repair';
import { concatenated, densify, sparseByteLength, storedElementBytes, type WeightEntry } from './sparse-weights';

export interface DownloadProgress {
  loaded: number;
  total: number;
}

export type TfjsFormat = 'graph-model' | 'layers-model';
/** 'tflite': a .tflite that runs on LiteRT only (its converted copy answered differently, so none is kept). */
export type ModelFormat = TfjsFormat | 'onnx' | 'tflite';

interface CommonFiles {
  spec: ModelSpec;
  labels: string[];
  version: string;
  /** The model's .tflite where it ships one (for LiteRT), downloaded and verified only when asked for. */
  tflite?: () => Promise<Uint8Array>;
}

/** A tfjs model (and maybe its .tflite), or an ONNX model, which only ONNX Runtime runs. */
export type ModelFiles =
  | (CommonFiles & { format: TfjsFormat; artifacts: tf.io.ModelArtifacts })
  /** `external`: the files its initializers keep their data in (`model.onnx_data`), by the names the .onnx gives. */
  | (CommonFiles & { format: 'onnx'; onnx: Uint8Array; external: Record<string, Uint8Array> })
  | (CommonFiles & { format: 'tflite'; tflite: () => Promise<Uint8Array> });
export type TfjsModelFiles = Extract<ModelFiles, { format: TfjsFormat }>;

const DEQUANTIZED_DTYPES = new Set(['float32', 'int32']);
export const MAX_MODEL_JSON_BYTES = 4 * 1024 * 1024;

/** Bytes a weight entry occupies in its shard, from its shape, stored dtype and (pruned weights) how many it keeps. */
export function entryByteLength(entry: WeightEntry): number {
  if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string')
    throw new ModelFormatError(
      `weightsManifest: an entry is not a weight with a name (${JSON.stringify(entry)?.slice(0, 60)})`,
    );
  const size = storedElementBytes(entry);
  if (size === undefined)
    throw new ModelFormatError(
      `weight ${entry.name}: unknown dtype ${JSON.stringify(entry.quantization?.dtype ?? entry.dtype)}`,
    );
  if (entry.quantization && !DEQUANTIZED_DTYPES.has(entry.dtype))
    throw new ModelFormatError(`weight ${entry.name}: unknown dtype ${JSON.stringify(entry.dtype)}`);
  if (
    !Array.isArray(entry.shape) ||
    entry.shape.length > 8 ||
    !entry.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 1 << 24)
  ) {
    throw new ModelFormatError(`weight ${entry.name}: bad shape`);
  }
  const count = entry.shape.reduce((a, b) => a * b, 1);
  if (entry.sparse === undefined) return count * size;
  const kept = entry.sparse?.kept;
  if (!(Number.isInteger(kept) && kept >= 0 && kept <= count))
    throw new ModelFormatError(`weight ${entry.name}: sparse, keeping ${JSON.stringify(kept)} of ${count} elements`);
  return sparseByteLength(count, kept, size);
}

/**
 * A tfjs model.json's format: what it says, else what its topology looks like (Teachable
 * Machine exports say nothing and may lack the usual model_config wrapper).
 */
export function modelFormatOf(json: tf.io.ModelJSON): TfjsFormat {
  if (json.format === 'graph-model' || json.format === 'layers-model') return json.format;
  if (json.format !== undefined)
    throw new ModelFormatError(`model.json format "${String(json.format)}" is not a tfjs graph or layers model`);
  const topology = json.modelTopology as Record<string, unknown> | undefined;
  if (topology && Array.isArray(topology.node)) return 'graph-model';
  if (topology && (topology.model_config || topology.class_name || topology.config)) return 'layers-model';
  throw new ModelFormatError(`model.json format "${String(json.format)}" is not a tfjs graph or layers model`);
}

/**
 * Checks model.json before any weight is fetched: a graph or layers model, plain shard file
 * names that the manifest lists, known dtypes, and shapes that need exactly the
 * bytes the manifest says each group's shards hold.
 */
export function validateModelJson(json: unknown, manifest: ModelManifest): tf.io.ModelJSON {
  const model = json as tf.io.ModelJSON;
  if (
    typeof model !== 'object' ||
    model === null ||
    typeof model.modelTopology !== 'object' ||
    !Array.isArray(model.weightsManifest)
  ) {
    throw new ModelFormatError('model.json has no modelTopology or weightsManifest');
  }
  modelFormatOf(model);
  for (const group of model.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights))
      throw new ModelFormatError('model.json: a weight group lacks paths or weights');
    for (const path of group.paths) {
      if (typeof path !== 'string' || !isPlainFileName(path))
        throw new ModelIntegrityError(`model.json: weight path "${String(path)}" is not a plain file name`);
      if (!manifest.files[path]) throw new ModelIntegrityError(`model.json: ${path} is not in the model manifest`);
    }
    const needed = group.weights.reduce((sum, entry) => sum + entryByteLength(entry), 0);
    const stored = group.paths.reduce((sum, path) => sum + manifest.files[path]!.bytes, 0);
    if (needed !== stored)
      throw new ModelIntegrityError(`model.json: weights need ${needed} bytes, their shards hold ${stored}`);
  }
  return model;
}

/** Reads a body chunk by chunk so the UI can show bytes as they arrive. */
async function readBody(
  response: Response,
  limit: number,
  onChunk: (bytes: number) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > limit) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
    onChunk(value.byteLength);
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Downloads of one model's files, each fetched, then verified against the manifest. */
class ModelDownload {
  private manifest: ModelManifest | null = null;
  private loaded = 0;
  total = 0;

  constructor(
    private readonly base: URL,
    private readonly fetcher: typeof fetch,
    /** Hears the model's download; files fetched later (a .tflite for LiteRT) are not part of it. */
    public onProgress: (p: DownloadProgress) => void,
  ) {}

  /** Fetches a file and checks the response itself: status 200, same origin, not an HTML page. */
  private async fetchFile(name: string, url: URL, init?: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetcher(url, init);
    } catch (cause) {
      // A fetcher that knows why (the model store: a stored copy lacks the file) says so itself.
      if (isErrorName((cause as Error)?.name)) throw cause;
      throw new ModelLoadError(`${name}: network error (${(cause as Error).message})`);
    }
    if (response.status !== 200) throw new ModelLoadError(`${name}: HTTP ${response.status}`);
    if (response.url && new URL(response.url).origin !== this.base.origin)
      throw new ModelIntegrityError(`${name}: redirected to another origin`);
    if (response.headers.get('content-type')?.includes('text/html'))
      throw new ModelIntegrityError(`${name}: the server answered with an HTML page`);
    return response;
  }

  /** The manifest, checked against its pinned sha256 where there is one. */
  async readManifest(pinnedSha256?: string): Promise<ModelManifest> {
    const url = new URL(MANIFEST_FILE, this.base);
    this.manifest = await repairing(
      url,
      async (init) => {
        const bytes = new Uint8Array(await (await this.fetchFile(MANIFEST_FILE, url, init)).arrayBuffer());
        if (pinnedSha256 && (await sha256Hex(bytes)) !== pinnedSha256)
          throw new ModelIntegrityError(`${MANIFEST_FILE} is not the one this app was built with`);
        try {
          return parseModelManifest(JSON.parse(new TextDecoder().decode(bytes)));
        } catch (error) {
          if (error instanceof SyntaxError) throw new ModelIntegrityError(`${MANIFEST_FILE} is not valid JSON`);
          throw error;
        }
      },
      { cache: 'no-cache' },
    );
    return this.manifest;
  }

  entry(name: string): ModelManifest['files'][string] {
    const file = this.manifest?.files[name];
    if (!file) throw new ModelIntegrityError(`${name} is not in the model manifest`);
    return file;
  }

  /** One download of a file, its bytes counted as they arrive, then its length and sha256 checked. */
  private async attempt(name: string, url: URL, init?: RequestInit): Promise<Uint8Array<ArrayBuffer>> {
    const { bytes, sha256 } = this.entry(name);
    let received = 0;
    const body = await readBody(await this.fetchFile(name, url, init), bytes, (n) => {
      received += n;
      this.loaded += n;
      this.onProgress({ loaded: this.loaded, total: this.total });
    });
    this.loaded -= received;
    if (body.byteLength !== bytes)
      throw new ModelIntegrityError(`${name}: ${body.byteLength} bytes, the manifest says ${bytes}`);
    if ((await sha256Hex(body)) !== sha256) throw new ModelIntegrityError(`${name}: content does not match its sha256`);
    this.loaded += bytes;
    this.onProgress({ loaded: this.loaded, total: this.total });
    return body;
  }

  /**
   * A file's verified bytes, downloaded afresh once if the first copy fails its check. Its URL
   * names the model version and its bytes are checked anyway, so a cached copy is used without
   * asking the server whether it changed (a round trip per file on a first visit, where the
   * page's prefetch has just cached it).
   */
  verified(name: string): Promise<Uint8Array<ArrayBuffer>> {
    const url = modelFileUrl(name, this.manifest!.version, this.base);
    return repairing(url, (init) => this.attempt(name, url, init), { cache: 'force-cache' });
  }

  async json(name: string): Promise<unknown> {
    try {
      return JSON.parse(new TextDecoder().decode(await this.verified(name))) as unknown;
    } catch (error) {
      if (error instanceof SyntaxError) throw new ModelFormatError(`${name} is not valid JSON`);
      throw error;
    }
  }
}

/**
 * An ONNX model's files: model.onnx, metadata.json, labels.json and any other file its manifest
 * lists (external data), each verified, fetched in parallel.
 */
async function fetchOnnxFiles(download: ModelDownload, manifest: ModelManifest): Promise<ModelFiles> {
  const others = shardNames(manifest);
  download.total = [...ONNX_JSON_FILES, ONNX_FILE, ...others].reduce(
    (sum, name) => sum + download.entry(name).bytes,
    0,
  );
  const onnx = download.verified(ONNX_FILE);
  const external = others.map((name) => download.verified(name));
  for (const pending of [onnx, ...external]) pending.catch(() => undefined);
  const [metadata, labelsJson] = await Promise.all(ONNX_JSON_FILES.map((name) => download.json(name)));
  const spec = parseModelSpec(metadata);
  const labels = parseLabels(labelsJson);
  const data = await Promise.all(external);
  return {
    format: 'onnx',
    onnx: await onnx,
    external: Object.fromEntries(others.map((name, i) => [name, data[i]!])),
    spec,
    labels,
    version: manifest.version,
  };
}

/** A model LiteRT alone runs: metadata.json and labels.json now, its .tflite verified when LiteRT asks for it. */
async function fetchTfliteFiles(download: ModelDownload, manifest: ModelManifest): Promise<ModelFiles> {
  download.total = ONNX_JSON_FILES.reduce((sum, name) => sum + download.entry(name).bytes, 0);
  const [metadata, labelsJson] = await Promise.all(ONNX_JSON_FILES.map((name) => download.json(name)));
  download.onProgress = () => undefined;
  return {
    format: 'tflite',
    tflite: fetchedOnce(download, TFLITE_FILE),
    spec: parseModelSpec(metadata),
    labels: parseLabels(labelsJson),
    version: manifest.version,
  };
}

/** A file fetched and verified the first time it is asked for (a failed try is forgotten, so the next ask fetches again). */
function fetchedOnce(download: ModelDownload, name: string): () => Promise<Uint8Array> {
  let pending: Promise<Uint8Array> | null = null;
  return () =>
    (pending ??= download.verified(name).catch((error: unknown) => ((pending = null), Promise.reject(error))));
}

/**
 * Downloads a graph model through its manifest: model.json, metadata.json,
 * labels.json and the weight shards, each checked (status 200, same origin, not an
 * HTML page, exact length, sha256) before use. A file that fails is evicted from
 * Cache Storage and fetched once more; a second failure is final.
 */
export async function fetchModelFiles(
  baseUrl: string,
  onProgress: (p: DownloadProgress) => void,
  fetcher: typeof fetch = (input, init) => fetch(input, init),
  /** The manifest's own sha256 where the app was built with it, so that it too is checked. */
  manifestSha256?: string,
): Promise<ModelFiles> {
  const download = new ModelDownload(
    new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`, globalThis.location?.href),
    fetcher,
    onProgress,
  );
  const manifest = await download.readManifest(manifestSha256);
  if (manifest.files[ONNX_FILE] && !manifest.files['model.json']) return fetchOnnxFiles(download, manifest);
  if (manifest.files[TFLITE_FILE] && !manifest.files['model.json']) return fetchTfliteFiles(download, manifest);
  if (download.entry('model.json').bytes > MAX_MODEL_JSON_BYTES)
    throw new ModelIntegrityError(`model.json is over ${MAX_MODEL_JSON_BYTES} bytes`);

  // Every other model file the manifest lists is fetched at once, in parallel with the
  // JSON files, rather than after model.json names it; model.json is then checked to
  // name only these.
  const shards = shardNames(manifest);
  download.total = [...JSON_FILES, ...shards].reduce((sum, name) => sum + download.entry(name).bytes, 0);
  const shardBytes = new Map(shards.map((name) => [name, download.verified(name)] as const));
  for (const pending of shardBytes.values()) pending.catch(() => undefined);
  const [modelJson, metadata, labelsJson] = await Promise.all(JSON_FILES.map((name) => download.json(name)));
  const spec = parseModelSpec(metadata);
  const labels = parseLabels(labelsJson);
  const model = validateModelJson(modelJson, manifest);
  const paths = model.weightsManifest.flatMap((group) => group.paths);
  const unfetched = paths.find((path) => !shardBytes.has(path));
  if (unfetched) throw new ModelIntegrityError(`model.json: ${unfetched} is not a weight file of the manifest`);

  const artifacts = await tf.io.getModelArtifactsForJSON(model, async (groups) => {
    const shards = await Promise.all(paths.map((path) => shardBytes.get(path)!));
    const entries = groups.flatMap((group) => group.weights) as WeightEntry[];
    if (!entries.some((e) => e.sparse)) return [entries, shards.map((s) => s.buffer as ArrayBuffer)];
    const dense = densify(entries, concatenated(shards).buffer);
    return [dense.entries, dense.data];
  });
  download.onProgress = () => undefined;
  return {
    format: modelFormatOf(model),
    artifacts,
    spec,
    labels,
    version: manifest.version,
    ...(manifest.files[TFLITE_FILE] ? { tflite: fetchedOnce(download, TFLITE_FILE) } : {}),
  };
}
