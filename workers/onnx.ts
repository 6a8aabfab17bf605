/// <reference path="../src/core/build-constants.d.ts" />
import type * as Ort from 'onnxruntime-web';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import gpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { BackendUnavailableError } from '../src/core/errors';
import type { OnnxBackend } from '../src/core/backends';
import { checkedWasm, wasmThreads } from './wasm-runtime';
import type { ModelSpec } from '../src/core/model-spec';
import { repairing } from '../model/cache-repair';
import { keep } from './kept-files';
import { OnnxRunner, onnxError } from '../model/onnx-runtime';

/**
 * ONNX Runtime Web, loaded only when an ONNX model runs. Its plain WASM build serves
 * onnx-wasm; the WebGPU and WebNN execution providers live in its larger asyncify build,
 * loaded only when one of them is tried. Each build's wasm is fetched here, checked against
 * the sha256 built into the app, kept for offline use, and handed to ONNX Runtime as bytes:
 * it never fetches code itself.
 */
interface OrtBuild {
  load: () => Promise<typeof Ort>;
  wasm: string;
  sha256: string;
}

const BUILDS: Record<'plain' | 'gpu', OrtBuild> = {
  plain: { load: () => import('onnxruntime-web/wasm'), wasm: wasmUrl, sha256: __GLIMPSE_ONNX_WASM_SHA256__.plain },
  gpu: { load: () => import('onnxruntime-web/webgpu'), wasm: gpuWasmUrl, sha256: __GLIMPSE_ONNX_WASM_SHA256__.gpu },
};

function verifiedWasm(build: OrtBuild): Promise<ArrayBuffer> {
  const url = new URL(build.wasm, self.location.href);
  return repairing(url, async (init) => {
    const bytes = await checkedWasm(await fetch(url, init), build.sha256, 'ONNX Runtime');
    await keep(url, bytes, 'application/wasm');
    return bytes;
  });
}

const runtimes: Partial<Record<keyof typeof BUILDS, Promise<typeof Ort>>> = {};

function runtime(kind: keyof typeof BUILDS): Promise<typeof Ort> {
  return (runtimes[kind] ??= (async () => {
    const build = BUILDS[kind];
    const [ort, wasm] = await Promise.all([build.load(), verifiedWasm(build)]);
    ort.env.wasm.wasmBinary = wasm;
    // As for LiteRT; ONNX Runtime's pthreads start from the script of its own chunk, which this origin serves.
    ort.env.wasm.numThreads = wasmThreads();
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return ort;
  })().catch((error: unknown) => {
    delete runtimes[kind];
    throw error;
  }));
}

const PROVIDERS: Record<
  OnnxBackend,
  { build: keyof typeof BUILDS; provider: Ort.InferenceSession.ExecutionProviderConfig }
> = {
  'onnx-wasm': { build: 'plain', provider: 'wasm' },
  'onnx-webgpu': { build: 'gpu', provider: 'webgpu' },
  'onnx-webnn': { build: 'gpu', provider: { name: 'webnn', deviceType: 'gpu' } },
};

/** An ONNX model on one of ONNX Runtime Web's execution providers; its runtime is checked and loaded on first use. */
export async function createOnnxRunner(
  onnx: Uint8Array,
  spec: ModelSpec,
  backend: OnnxBackend,
  external: Record<string, Uint8Array> = {},
): Promise<OnnxRunner> {
  const { build, provider } = PROVIDERS[backend];
  if (backend === 'onnx-webnn' && !('ml' in navigator)) throw new BackendUnavailableError('this browser has no WebNN');
  if (backend === 'onnx-webgpu' && !('gpu' in navigator))
    throw new BackendUnavailableError('this browser has no WebGPU');
  const ort = await runtime(build);
  let session: Ort.InferenceSession;
  try {
    // External data is handed over as bytes: ONNX Runtime must never fetch it by its path.
    const externalData = Object.entries(external).map(([path, data]) => ({ path, data }));
    session = await ort.InferenceSession.create(onnx, {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...(externalData.length ? { externalData } : {}),
    });
  } catch (error) {
    throw onnxError(`ONNX Runtime (${backend}) cannot load the model`, error);
  }
  return new OnnxRunner(ort, session, spec);
}
