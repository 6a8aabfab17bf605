/// <reference path="../src/core/build-constants.d.ts" />
import singleWasm from '@litertjs/core/wasm/litert_wasm_internal.wasm?url';

/** The single-threaded build's wasm, LiteRT's usual one. */
export const SINGLE_WASM = singleWasm;

/** Threads LiteRT runs with: up to 4 where the page is cross-origin isolated and the app built for it (GLIMPSE_ISOLATE=1); LiteRT's own default is one. */
export function liteRtThreads(): number {
  const threads = Math.min(4, navigator.hardwareConcurrency || 1);
  return __GLIMPSE_ISOLATE__ && self.crossOriginIsolated && threads > 1 ? threads : 1;
}

let early: Promise<Response> | null = null;

/**
 * Starts downloading the single-threaded build's 9 MB wasm before LiteRT's code (a chunk of
 * its own) has loaded: on a worker busy with photos each waited ~1 s in turn. The threaded
 * build's wasm is fetched by its own code.
 */
export function startLiteRtDownload(): void {
  if (liteRtThreads() === 1) early ??= fetch(new URL(SINGLE_WASM, self.location.href));
}

/** The early download, taken once: a retry after a failed check downloads afresh. */
export function takeEarlyDownload(): Promise<Response> | null {
  const response = early;
  early = null;
  return response;
}
