import * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError, ModelLoadError } from '../src/core/errors';
import { parseLabels, parseModelSpec, type ModelSpec } from '../src/core/model-spec';

export interface DownloadProgress {
  loaded: number;
  total: number;
}

export interface ModelFiles {
  artifacts: tf.io.ModelArtifacts;
  spec: ModelSpec;
  labels: string[];
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes a weight entry occupies in its shard, from its shape and stored dtype. */
export function entryByteLength(entry: tf.io.WeightsManifestEntry): number {
  const stored = entry.quantization?.dtype ?? entry.dtype;
  const size = BYTES_PER_ELEMENT[stored];
  if (size === undefined) throw new ModelFormatError(`weight ${entry.name}: unsupported dtype ${stored}`);
  if (!entry.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ModelFormatError(`weight ${entry.name}: bad shape`);
  return entry.shape.reduce((a, b) => a * b, 1) * size;
}

async function fetchOk(url: URL, what: string, fetcher: typeof fetch): Promise<Response> {
  let response: Response;
  try {
    response = await fetcher(url);
  } catch (cause) {
    throw new ModelLoadError(`${what}: network error (${(cause as Error).message})`);
  }
  if (!response.ok) throw new ModelLoadError(`${what}: HTTP ${response.status}`);
  if (response.headers.get('content-type')?.includes('text/html')) {
    throw new ModelLoadError(`${what}: the server answered with an HTML page`);
  }
  return response;
}

async function fetchJson(url: URL, what: string, fetcher: typeof fetch): Promise<unknown> {
  const response = await fetchOk(url, what, fetcher);
  try {
    return await response.json();
  } catch {
    throw new ModelFormatError(`${what} is not valid JSON`);
  }
}

/** Reads a body chunk by chunk so the UI can show bytes as they arrive. */
async function readBody(response: Response, onChunk: (bytes: number) => void): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
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

/**
 * Downloads model.json, metadata.json, labels.json and the weight shards of a
 * graph model in parallel, reporting weight bytes as they arrive. Shard lengths are
 * checked against what the weight shapes imply, so a truncated or padded download
 * fails loudly instead of loading garbage (tfjs itself does not check).
 */
export async function fetchModelFiles(
  baseUrl: string,
  onProgress: (p: DownloadProgress) => void,
  fetcher: typeof fetch = (input, init) => fetch(input, init),
): Promise<ModelFiles> {
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`, globalThis.location?.href);
  const [modelJson, metadata, labelsJson] = await Promise.all([
    fetchJson(new URL('model.json', base), 'model.json', fetcher),
    fetchJson(new URL('metadata.json', base), 'metadata.json', fetcher),
    fetchJson(new URL('labels.json', base), 'labels.json', fetcher),
  ]);
  const spec = parseModelSpec(metadata);
  const labels = parseLabels(labelsJson);
  const json = modelJson as tf.io.ModelJSON;
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelFormatError('model.json has no modelTopology or weightsManifest');
  }
  if (json.format !== 'graph-model') {
    throw new ModelFormatError(`model.json format "${String(json.format)}" is not supported; Glimpse runs tfjs graph models`);
  }

  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    const total = specs.reduce((sum, entry) => sum + entryByteLength(entry), 0);
    const paths = manifest.flatMap((group) => group.paths);
    let loaded = 0;
    onProgress({ loaded, total });
    const shards = await Promise.all(
      paths.map(async (path) => {
        const response = await fetchOk(new URL(path, base), path, fetcher);
        return readBody(response, (bytes) => {
          loaded += bytes;
          onProgress({ loaded, total });
        });
      }),
    );
    const received = shards.reduce((sum, s) => sum + s.byteLength, 0);
    if (received !== total) {
      throw new ModelFormatError(`weights are ${received} bytes, the model's shapes need ${total}`);
    }
    return [specs, shards.map((s) => s.buffer as ArrayBuffer)];
  });
  return { artifacts, spec, labels };
}
