import type * as Ort from 'onnxruntime-common';
import { BackendUnavailableError, ModelFormatError } from '../src/core/errors';
import { inputShape, modelInput } from '../src/core/model-input';
import type { ModelSpec } from '../src/core/model-spec';
import { blankImage, type Pixels } from '../src/core/model-input';
import { isOnnxBackend, type BackendName, type OnnxBackend } from '../src/core/backends';
import type { ModelFiles } from './model-files';
import { trialCandidates } from './backend-choice';
import type { Runner, Runtime } from './runner';

/** ONNX Runtime's own words on why a model will not load or run, kept short ("Could not find an implementation for Foo(1) node"). */
export function onnxError(what: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new ModelFormatError(`${what}: ${message.replace(/^.*?ERROR_CODE: \d+, ERROR_MESSAGE: /s, '').slice(0, 300)}`);
}

/** What the runner needs of an ONNX Runtime package: onnxruntime-web in the browser, onnxruntime-node in the Node tools. */
export interface OrtModule {
  Tensor: typeof Ort.Tensor;
}

/**
 * An ONNX classifier in one ONNX Runtime session. It takes the same pixels every engine does
 * (`modelInput`, in the model's layout and normalisation) and answers with the model's class
 * scores, as float32 whatever the model's output type.
 */
export class OnnxRunner implements Runner {
  constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly spec: ModelSpec,
  ) {}

  async run(pixels: Pixels | null): Promise<Float32Array> {
    const image = pixels ?? blankImage(this.spec);
    const input = new this.ort.Tensor('float32', modelInput(image, this.spec), inputShape(this.spec));
    let outputs: Ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await this.session.run({ [this.session.inputNames[0]!]: input });
    } catch (error) {
      throw onnxError('ONNX Runtime could not run the model', error);
    } finally {
      input.dispose();
    }
    try {
      const output = outputs[this.session.outputNames[0]!] as Ort.Tensor;
      if (output.type !== 'float32')
        throw new ModelFormatError(`the model answers with ${output.type} numbers, not float32 scores`);
      return Float32Array.from(output.data as Float32Array);
    } finally {
      for (const value of Object.values(outputs)) (value as Ort.Tensor).dispose();
    }
  }

  dispose(): void {
    void this.session.release().catch(() => undefined);
  }
}

export type OnnxModelFiles = Extract<ModelFiles, { format: 'onnx' }>;

/**
 * ONNX Runtime, which runs ONNX models only: its WebAssembly provider (onnx-wasm; onnxruntime-node's
 * CPU provider in the tools), WebGPU, and WebNN where the browser has it. `load` opens a session in
 * this realm.
 */
export function onnxRuntime(load: (files: OnnxModelFiles, backend: OnnxBackend) => Promise<Runner>): Runtime {
  return {
    backends: ['onnx-webgpu', 'onnx-webnn', 'onnx-wasm'],
    cpu: 'onnx-wasm',
    can: { features: false, globalBackend: false, buildsAside: true },
    native: (files) => files.format === 'onnx',
    refusal: (files, backend) =>
      files.format === 'onnx' ? null : `${backend} runs ONNX models; this one is a tfjs model`,
    startOrder: (preferred: BackendName) =>
      isOnnxBackend(preferred) && preferred !== 'onnx-wasm' ? [preferred, 'onnx-wasm'] : ['onnx-wasm'],
    gpuCandidates: (probes) => [
      ...(trialCandidates(probes).includes('webgpu') ? (['onnx-webgpu'] as const) : []),
      ...(typeof navigator !== 'undefined' && 'ml' in navigator ? (['onnx-webnn'] as const) : []),
    ],
    build: async (files, backend) => {
      if (files.format !== 'onnx' || !isOnnxBackend(backend))
        throw new BackendUnavailableError(`${backend} runs ONNX models; this one is a tfjs model`);
      return load(files, backend);
    },
  };
}
