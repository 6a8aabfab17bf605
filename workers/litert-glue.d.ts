/** LiteRT.js's Emscripten glue: a classic script whose UMD tail exports its module factory. */
declare module '@litertjs/core/wasm/litert_wasm_internal.js' {
  const factory: (module?: object) => Promise<unknown>;
  export default factory;
}
declare module '@litertjs/core/wasm/litert_wasm_threaded_internal.js' {
  const factory: (module?: object) => Promise<unknown>;
  export default factory;
}
