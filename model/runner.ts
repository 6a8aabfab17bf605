import type { OnnxBackend } from '../src/core/backends';
import type { Pixels } from '../src/core/model-input';
import type { ModelFiles } from './model-files';

/** A model ready to run on one backend: the model's output for an image (null: a blank one). */
export interface Runner {
  run(pixels: Pixels | null): Promise<Float32Array>;
  /** The output of a graph node (a model's pooled features, say), where the runtime can give it. */
  features?(pixels: Pixels, node: string): Promise<Float32Array>;
  dispose(): void;
}

/** Builds a runner for a runtime other than tfjs (LiteRT.js), given the model's files and output length. */
export type RunnerFactory = (files: ModelFiles, outputs: number) => Promise<Runner>;

/** Builds an ONNX model's runner on one of ONNX Runtime's execution providers. */
export type OnnxRunnerFactory = (
  onnx: Uint8Array,
  spec: ModelFiles['spec'],
  backend: OnnxBackend,
  external: Record<string, Uint8Array>,
) => Promise<Runner>;
