/// <reference path="../src/core/build-constants.d.ts" />
import singleWasm from '@litertjs/core/wasm/litert_wasm_internal.wasm?url';
import { wasmThreads } from './wasm-runtime';

/** The single-threaded build's wasm, LiteRT's usual one. */
export const SINGLE_WASM = singleWasm;

let early: Promise<Response> | null = null;

/**
 * Starts downloading the single-threaded build's 9 MB wasm before LiteRT's code (a chunk of
 * its own) has loaded: on a worker busy with photos each waited ~1 s in turn. The threaded
 * build's wasm is fetched by its own code.
 */
export function startLiteRtDownload(): void {
  if (wasmThreads() === 1) early ??= fetch(new URL(SINGLE_WASM, self.location.href));
}

/** The early download, taken once: a retry after a failed check downloads afresh. */
export function takeEarlyDownload(): Promise<Response> | null {
  const response = early;
  early = null;
  return response;
}
