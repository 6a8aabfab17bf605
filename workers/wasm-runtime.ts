/// <reference path="../src/core/build-constants.d.ts" />
import { BackendUnavailableError, ModelIntegrityError } from '../src/core/errors';
import { sha256Hex } from '../src/core/model-manifest';

/** What LiteRT.js and ONNX Runtime Web, both WebAssembly runtimes, need alike. */

/** Threads a runtime runs with: up to 4 where the page is cross-origin isolated and the app built for it (GLIMPSE_ISOLATE=1); else one (SharedArrayBuffer needs isolation). */
export function wasmThreads(): number {
  const threads = Math.min(4, navigator.hardwareConcurrency || 1);
  return __GLIMPSE_ISOLATE__ && self.crossOriginIsolated && threads > 1 ? threads : 1;
}

/** A runtime's wasm bytes from its response, refused unless they are the ones the app was built with (`sha256`). */
export async function checkedWasm(response: Response, sha256: string, runtime: string): Promise<ArrayBuffer> {
  if (!response.ok) throw new BackendUnavailableError(`${runtime} wasm: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  if ((await sha256Hex(bytes)) !== sha256)
    throw new ModelIntegrityError(`the ${runtime} wasm is not the one this app was built with`);
  return bytes;
}
