/**
 * The WebAssembly memories of every runtime in this worker (tfjs-wasm, LiteRT, ONNX Runtime):
 * where a model's tensors live, and what a model that allocates on some images fills. No runtime
 * reports its heap, and none can be asked for it, so the instantiation functions are wrapped once,
 * at the worker's start, to note each instance's memories (exported, or imported when threaded).
 * Memory never shrinks: what a run grew stays until the worker ends.
 */

const memories = new Set<WebAssembly.Memory>();

function note(instance: WebAssembly.Instance, imports: WebAssembly.Imports | undefined): void {
  for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.add(value);
  for (const module of Object.values(imports ?? {})) {
    for (const value of Object.values(module ?? {})) if (value instanceof WebAssembly.Memory) memories.add(value);
  }
}

let tracking = false;

/** Wraps WebAssembly's instantiation functions, once, so that wasmHeapBytes sees every runtime's memory. */
export function trackWasmHeaps(): void {
  if (tracking || typeof WebAssembly === 'undefined') return;
  tracking = true;
  const wasm = WebAssembly as { -readonly [K in keyof typeof WebAssembly]: (typeof WebAssembly)[K] };
  const { instantiate, instantiateStreaming, Instance } = WebAssembly;
  wasm.instantiate = (async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
    const result = await instantiate(source as BufferSource, imports);
    note(result instanceof WebAssembly.Instance ? result : result.instance, imports);
    return result;
  }) as typeof WebAssembly.instantiate;
  if (instantiateStreaming) {
    wasm.instantiateStreaming = async (source, imports) => {
      const result = await instantiateStreaming(source, imports);
      note(result.instance, imports);
      return result;
    };
  }
  wasm.Instance = new Proxy(Instance, {
    construct(target, args: [WebAssembly.Module, WebAssembly.Imports?]) {
      const instance = Reflect.construct(target, args) as WebAssembly.Instance;
      note(instance, args[1]);
      return instance;
    },
  });
}

/** The bytes every noted WebAssembly memory holds now (a shared memory counted once). */
export function wasmHeapBytes(): number {
  let total = 0;
  for (const memory of memories) total += memory.buffer.byteLength;
  return total;
}
