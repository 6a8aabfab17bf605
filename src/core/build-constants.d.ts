/** Values vite.config.ts defines at build time. */

/** The embed allow-list the build was made for (GLIMPSE_EMBED_ORIGINS, see build/deploy-settings.ts). */
declare const __GLIMPSE_EMBED_ORIGINS__: '*' | string[];
/** The other models the site ships (public/models/catalogue.json, written by the build). */
declare const __GLIMPSE_SHIPPED_MODELS__: { id: string; name: string; classes: number; manifestSha256: string }[];
/** The name of the model the site ships (public/model/metadata.json). */
declare const __GLIMPSE_BUILTIN_MODEL_NAME__: string;
/** The release label shown in the app (GLIMPSE_RELEASE at build time, else the package version). */
declare const __GLIMPSE_RELEASE__: string;
/** The sha256 of public/model/manifest.json at build time: the built-in model's manifest is checked against it. */
declare const __GLIMPSE_MODEL_MANIFEST_SHA256__: string;
/** The sha256 (hex) of LiteRT.js's wasm builds: the worker checks the one it uses before compiling it. */
declare const __GLIMPSE_LITERT_WASM_SHA256__: { single: string; threaded: string };
/** The sha256 (hex) of ONNX Runtime Web's wasm builds (plain: the WASM provider; gpu: WebGPU and WebNN), checked before compiling. */
declare const __GLIMPSE_ONNX_WASM_SHA256__: { plain: string; gpu: string };
/** Whether the build is for a cross-origin isolated deployment (GLIMPSE_ISOLATE=1), where threads are possible. */
declare const __GLIMPSE_ISOLATE__: boolean;
