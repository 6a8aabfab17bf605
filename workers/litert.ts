/// <reference path="../src/core/build-constants.d.ts" />
/// <reference path="./litert-glue.d.ts" />
import { loadAndCompile, loadLiteRt, supportsFeature, Tensor, type CompiledModel } from '@litertjs/core';
import glueFactory from '@litertjs/core/wasm/litert_wasm_internal.js';
import { BackendUnavailableError, ModelFormatError } from '../src/core/errors';
import { median } from '../src/core/stats';
import { inputChannels, modelInput } from '../src/core/model-input';
import type { ModelSpec } from '../src/core/model-spec';
import { blankImage, type Pixels } from '../src/core/model-input';
import { readTflite, type TfliteTensor } from '../src/core/tflite/reader';
import { repairing } from '../model/cache-repair';
import { keep } from './kept-files';
import { SINGLE_WASM, takeEarlyDownload } from './litert-wasm';
import { checkedWasm, wasmThreads } from './wasm-runtime';
import type { Runner } from '../model/runner';

type GlueScope = { ModuleFactory?: unknown; Module?: unknown; importScripts: (...urls: string[]) => void };

/** One of LiteRT's wasm builds: its glue's module factory, its wasm, and (threaded) the glue as a file for its pthreads. */
interface LiteRtBuild {
  factory: unknown;
  wasm: string;
  sha256: string;
  script?: string;
  threads: number;
}

/** The threaded build where LiteRT may use threads (it is left out of other builds), else the single-threaded one. */
async function chooseBuild(): Promise<LiteRtBuild> {
  const threads = wasmThreads();
  if (__GLIMPSE_ISOLATE__ && threads > 1) {
    const { threadedBuild } = await import('./litert-threaded');
    return { ...threadedBuild, sha256: __GLIMPSE_LITERT_WASM_SHA256__.threaded, threads };
  }
  return { factory: glueFactory, wasm: SINGLE_WASM, sha256: __GLIMPSE_LITERT_WASM_SHA256__.single, threads: 1 };
}

/**
 * The wasm, compiled while it downloads and instantiated only once its bytes matched the hash
 * built into the app (downloaded afresh once if they did not): nothing of it runs before
 * instantiation, and compiling 9 MB after the download took as long again on 2 busy cores.
 */
function verifiedWasm(build: LiteRtBuild): Promise<WebAssembly.Module> {
  const url = new URL(build.wasm, self.location.href);
  return repairing(url, async (init) => {
    const response = await ((init ? null : takeEarlyDownload()) ?? fetch(url, init));
    // A host that serves it with another type than application/wasm: compiled from the bytes instead.
    const compiling = response.ok ? WebAssembly.compileStreaming(response.clone()).catch(() => null) : null;
    const bytes = await checkedWasm(response, build.sha256, 'LiteRT');
    // Stored for offline use meanwhile: writing 9 MB to Cache Storage took ~0.9 s on 2 cores, which the first photos on LiteRT need not wait for.
    void keep(url, bytes, 'application/wasm');
    return (await compiling) ?? WebAssembly.compile(bytes);
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
export function startRuntime(): Promise<number> {
  return (runtime ??= (async () => {
    if (!(await supportsFeature('relaxedSimd')))
      throw new BackendUnavailableError('LiteRT needs WebAssembly relaxed SIMD');
    const build = await chooseBuild();
    const module = await verifiedWasm(build);
    const scope = self as unknown as GlueScope;
    const importScripts = scope.importScripts;
    scope.ModuleFactory = build.factory;
    scope.Module = {
      ...(build.script ? { mainScriptUrlOrBlob: new URL(build.script, self.location.href).href } : {}),
      // LiteRT logs its start-up (accelerators registered, no NPU, no OpenCL) as errors: only real problems are passed on.
      print: () => undefined,
      printErr: (line: string) => /^(INFO|WARNING):/.test(line) || console.warn(`LiteRT: ${line}`),
      instantiateWasm(
        imports: WebAssembly.Imports,
        done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
      ) {
        void WebAssembly.instantiate(module, imports).then((instance) => done(instance, module));
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

/** Timing runs per thread count: alternated, so a busy moment slows both alike. */
const THREAD_TRIAL_RUNS = 5;

/**
 * With threads the runtime can also run on one: on a 2-core device the page's own work
 * (decoding the next photo, painting) competes with a second thread, so both are timed on a
 * blank image and the faster is kept.
 */
async function fasterOf(threaded: LiteRtRunner, single: LiteRtRunner): Promise<LiteRtRunner> {
  const times = [[], []] as [number[], number[]];
  await threaded.run(null);
  await single.run(null);
  for (let i = 0; i < THREAD_TRIAL_RUNS; i++) {
    for (const [j, runner] of [threaded, single].entries()) {
      const start = performance.now();
      await runner.run(null);
      times[j]!.push(performance.now() - start);
    }
  }
  const [keep, drop] = median(times[0]) <= median(times[1]) ? [threaded, single] : [single, threaded];
  drop.dispose();
  return keep;
}

/** How a tensor's stored numbers map to real values: its type and (uint8) quantization. */
interface TensorCoding {
  type: 'float32' | 'uint8';
  scale: number;
  zeroPoint: number;
}

function coding(tensor: TfliteTensor): TensorCoding {
  // LiteRT.js tensors are float32, int32 or uint8: int8 models stay with tfjs.
  if (tensor.type !== 'float32' && tensor.type !== 'uint8')
    throw new ModelFormatError(`LiteRT: ${tensor.type} tensors are not supported here`);
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
    if (graph.inputs.length !== 1 || graph.outputs.length < 1)
      throw new ModelFormatError('LiteRT: expected one image input');
    const input = graph.tensors[graph.inputs[0]!]!;
    const output = graph.tensors[graph.outputs[0]!]!;
    const [, h, w, c] = input.shape;
    if (h !== spec.inputSize[0] || w !== spec.inputSize[1] || c !== inputChannels(spec))
      throw new ModelFormatError(
        `LiteRT: the .tflite takes ${input.shape.join('×')}, the model ${spec.inputSize.join('×')}×${inputChannels(spec)}`,
      );
    const length = output.shape.reduce((a, b) => a * b, 1);
    const skip = length - outputs;
    if (skip !== 0 && skip !== 1)
      throw new ModelFormatError(`LiteRT: the .tflite answers with ${length} numbers, the model with ${outputs}`);
    const [inputCoding, outputCoding] = [coding(input), coding(output)];
    const threads = await startRuntime();
    const compile = (numThreads: number) => loadAndCompile(tflite, { accelerator: 'wasm', cpuOptions: { numThreads } });
    const runner = (model: CompiledModel) => new LiteRtRunner(model, spec, inputCoding, outputCoding, skip);
    if (threads === 1) return runner(await compile(1));
    return fasterOf(runner(await compile(threads)), runner(await compile(1)));
  }

  async run(pixels: Pixels | null): Promise<Float32Array> {
    const [h, w] = this.spec.inputSize;
    // A blank image (the warm-up and the timing runs) takes the same path as a photo, so those runs warm it too.
    const image = pixels ?? blankImage(this.spec);
    const data =
      this.input.type === 'float32' ? modelInput(image, this.spec) : modelInput(image, this.spec, this.input);
    const tensor = new Tensor(data, [1, h, w, inputChannels(this.spec)]);
    try {
      const [result, ...rest] = await this.model.run(tensor);
      for (const extra of rest) extra.delete();
      try {
        const raw = result!.toTypedArray().subarray(this.skip);
        if (this.output.type === 'float32') return Float32Array.from(raw);
        // A loop: Float32Array.from with a function took 0.15–0.26 ms for 1,001 classes in Chromium, this 0.01 ms.
        const { zeroPoint, scale } = this.output;
        const values = new Float32Array(raw.length);
        for (let i = 0; i < raw.length; i++) values[i] = (raw[i]! - zeroPoint) * scale;
        return values;
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
