/// <reference path="../src/core/build-constants.d.ts" />
/// <reference path="./litert-glue.d.ts" />
import { loadAndCompile, loadLiteRt, supportsFeature, Tensor, type CompiledModel } from '@litertjs/core';
import glueFactory from '@litertjs/core/wasm/litert_wasm_internal.js';
import wasmUrl from '@litertjs/core/wasm/litert_wasm_internal.wasm?url';
import { BackendUnavailableError, ModelFormatError, ModelIntegrityError } from '../src/core/errors';
import { sha256Hex } from '../src/core/model-manifest';
import { modelInput } from '../src/core/model-input';
import type { ModelSpec } from '../src/core/model-spec';
import { blankImage, type Pixels } from '../src/core/preprocess';
import { readTflite, type TfliteTensor } from '../src/core/tflite/reader';
import { repairing } from './cache-repair';
import { keep } from './kept-files';
import type { Runner } from './engine';

type GlueScope = { ModuleFactory?: unknown; Module?: unknown; importScripts: (...urls: string[]) => void };

/** One of LiteRT's wasm builds: its glue's module factory, its wasm, and (threaded) the glue as a file for its pthreads. */
interface LiteRtBuild {
  factory: unknown;
  wasm: string;
  sha256: string;
  script?: string;
  threads: number;
}

/**
 * Threads where the page is cross-origin isolated and the build made for it (the
 * threaded build is left out of other builds), up to 4: LiteRT's own default is one.
 */
async function chooseBuild(): Promise<LiteRtBuild> {
  const threads = Math.min(4, navigator.hardwareConcurrency || 1);
  if (__GLIMPSE_ISOLATE__ && self.crossOriginIsolated && threads > 1) {
    const { threadedBuild } = await import('./litert-threaded');
    return { ...threadedBuild, sha256: __GLIMPSE_LITERT_WASM_SHA256__.threaded, threads };
  }
  return { factory: glueFactory, wasm: wasmUrl, sha256: __GLIMPSE_LITERT_WASM_SHA256__.single, threads: 1 };
}

/** The wasm's bytes, checked against the hash built into the app before they are compiled (and downloaded afresh once if they fail). */
function verifiedWasm(build: LiteRtBuild): Promise<ArrayBuffer> {
  const url = new URL(build.wasm, self.location.href);
  return repairing(url, async (init) => {
    const response = await fetch(url, init);
    if (!response.ok) throw new BackendUnavailableError(`LiteRT wasm: HTTP ${response.status}`);
    const bytes = await response.arrayBuffer();
    if ((await sha256Hex(bytes)) !== build.sha256) throw new ModelIntegrityError('the LiteRT wasm is not the one this app was built with');
    await keep(url, bytes, 'application/wasm');
    return bytes;
  });
}

let runtime: Promise<number> | null = null;

/**
 * Starts LiteRT.js once. Its loader runs the Emscripten glue with importScripts, which a
 * module worker does not have; the glue is bundled here instead (an ES import of its UMD
 * export) and handed over as the global factory the loader looks for, with the wasm
 * instantiated from bytes verified against the build's hash. Only the relaxed-SIMD builds
 * ship (every current Chromium, Firefox and Safari 18 have relaxed SIMD); without it
 * LiteRT is not a candidate. Resolves to the threads its models may use.
 */
function startRuntime(): Promise<number> {
  return (runtime ??= (async () => {
    if (!(await supportsFeature('relaxedSimd'))) throw new BackendUnavailableError('LiteRT needs WebAssembly relaxed SIMD');
    const build = await chooseBuild();
    const wasm = await verifiedWasm(build);
    const scope = self as unknown as GlueScope;
    const importScripts = scope.importScripts;
    scope.ModuleFactory = build.factory;
    scope.Module = {
      ...(build.script ? { mainScriptUrlOrBlob: new URL(build.script, self.location.href).href } : {}),
      // LiteRT logs its start-up (accelerators registered, no NPU, no OpenCL) as errors: only real problems are passed on.
      print: () => undefined,
      printErr: (line: string) => /^(INFO|WARNING):/.test(line) || console.warn(`LiteRT: ${line}`),
      instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        void WebAssembly.instantiate(wasm, imports).then(({ instance, module }) => done(instance, module));
        return {};
      },
    };
    scope.importScripts = () => undefined;
    try {
      await loadLiteRt(new URL(build.script ?? 'litert_wasm_internal.js', self.location.href).href);
    } finally {
      scope.importScripts = importScripts;
    }
    return build.threads;
  })().catch((error: unknown) => {
    runtime = null;
    throw error;
  }));
}

/** How a tensor's stored numbers map to real values: its type and (uint8) quantization. */
interface TensorCoding {
  type: 'float32' | 'uint8';
  scale: number;
  zeroPoint: number;
}

function coding(tensor: TfliteTensor): TensorCoding {
  // LiteRT.js tensors are float32, int32 or uint8: int8 models stay with tfjs.
  if (tensor.type !== 'float32' && tensor.type !== 'uint8') throw new ModelFormatError(`LiteRT: ${tensor.type} tensors are not supported here`);
  return { type: tensor.type, scale: tensor.scale[0] ?? 1, zeroPoint: tensor.zeroPoint[0] ?? 0 };
}

/**
 * A .tflite model on LiteRT.js's CPU (XNNPACK) kernels, which run quantized models on
 * integer kernels rather than dequantizing them as tfjs does. It takes the same pixels
 * and answers with the same numbers as the tfjs model converted from it: the input is
 * made in plain JS exactly as `toInputTensor` makes it, and a background class the
 * converted model dropped is dropped here too.
 */
export class LiteRtRunner implements Runner {
  private constructor(
    private readonly model: CompiledModel,
    private readonly spec: ModelSpec,
    private readonly input: TensorCoding,
    private readonly output: TensorCoding,
    /** Outputs before our first class (a background class the converted model dropped). */
    private readonly skip: number,
  ) {}

  static async create(tflite: Uint8Array, spec: ModelSpec, outputs: number): Promise<LiteRtRunner> {
    const graph = readTflite(tflite);
    if (graph.inputs.length !== 1 || graph.outputs.length < 1) throw new ModelFormatError('LiteRT: expected one image input');
    const input = graph.tensors[graph.inputs[0]!]!;
    const output = graph.tensors[graph.outputs[0]!]!;
    const [, h, w, c] = input.shape;
    if (h !== spec.inputSize[0] || w !== spec.inputSize[1] || c !== 3) throw new ModelFormatError(`LiteRT: the .tflite takes ${input.shape.join('×')}, the model ${spec.inputSize.join('×')}×3`);
    const length = output.shape.reduce((a, b) => a * b, 1);
    const skip = length - outputs;
    if (skip !== 0 && skip !== 1) throw new ModelFormatError(`LiteRT: the .tflite answers with ${length} numbers, the model with ${outputs}`);
    // Every check on the file comes before the runtime's 9 MB download.
    const [inputCoding, outputCoding] = [coding(input), coding(output)];
    const threads = await startRuntime();
    const model = await loadAndCompile(tflite, { accelerator: 'wasm', cpuOptions: { numThreads: threads } });
    return new LiteRtRunner(model, spec, inputCoding, outputCoding, skip);
  }

  async run(pixels: Pixels | null): Promise<Float32Array> {
    const [h, w] = this.spec.inputSize;
    // A blank image (the warm-up and the timing runs) takes the same path as a photo, so those runs warm it too.
    const image = pixels ?? blankImage(this.spec);
    const data = this.input.type === 'float32' ? modelInput(image, this.spec) : modelInput(image, this.spec, this.input);
    const tensor = new Tensor(data, [1, h, w, 3]);
    try {
      const [result, ...rest] = await this.model.run(tensor);
      for (const extra of rest) extra.delete();
      try {
        const raw = result!.toTypedArray().subarray(this.skip);
        if (this.output.type === 'float32') return Float32Array.from(raw);
        return Float32Array.from(raw, (q) => (q - this.output.zeroPoint) * this.output.scale);
      } finally {
        result!.delete();
      }
    } finally {
      tensor.delete();
    }
  }

  dispose(): void {
    this.model.delete();
  }
}
