/// <reference path="./litert-glue.d.ts" />
import factory from '@litertjs/core/wasm/litert_wasm_threaded_internal.js';
import script from '@litertjs/core/wasm/litert_wasm_threaded_internal.js?url';
import wasm from '@litertjs/core/wasm/litert_wasm_threaded_internal.wasm?url';

/**
 * LiteRT's threaded build, for cross-origin isolated deployments only (GLIMPSE_ISOLATE=1):
 * its glue runs in this worker as bundled code, and once more as a file in each of its
 * pthread workers (classic workers, which load it themselves).
 */
export const threadedBuild = { factory, script, wasm };
