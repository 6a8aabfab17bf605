import * as ort from 'onnxruntime-web/wasm';
import { inputShape, modelInput } from '../../src/core/model-input';
import { parseModelSpec } from '../../src/core/model-spec';
import { classProbabilities, topK } from '../../src/core/predictions';
import { showResults } from '../peer-page';

performance.mark('glimpse:start');
const status = document.querySelector<HTMLElement>('[data-testid="model-status"]')!;
const name = 'onnx-wasm';
ort.env.wasm.numThreads = 1;

/** The ONNX model Glimpse was built with for the bench (bench/run.ts copies it to /onnx-model/). */
const ready = (async () => {
  const [bytes, metadata, labels] = await Promise.all([
    fetch('/onnx-model/model.onnx').then((r) => r.arrayBuffer()),
    fetch('/onnx-model/metadata.json').then((r) => r.json()),
    fetch('/onnx-model/labels.json').then((r) => r.json() as Promise<string[]>),
  ]);
  performance.mark('glimpse:model-downloaded');
  const session = await ort.InferenceSession.create(new Uint8Array(bytes), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const spec = parseModelSpec(metadata);
  performance.mark('glimpse:warmup');
  const blank = new ort.Tensor(
    'float32',
    new Float32Array(3 * spec.inputSize[0] * spec.inputSize[1]),
    inputShape(spec),
  );
  await session.run({ [session.inputNames[0]!]: blank });
  performance.mark('glimpse:ready');
  Object.assign(status.dataset, { state: 'ready', backend: name });
  status.textContent = `ready on ${name}`;
  return { session, spec, labels };
})();

showResults(
  () => name,
  async (pixels) => {
    const { session, spec, labels } = await ready;
    const input = new ort.Tensor('float32', modelInput(pixels, spec), inputShape(spec));
    const outputs = await session.run({ [session.inputNames[0]!]: input });
    const scores = outputs[session.outputNames[0]!]!.data as Float32Array;
    return topK(classProbabilities(scores, labels.length, spec.classOffset, spec.outputIsLogits), labels, 5);
  },
);
