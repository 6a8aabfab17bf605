import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { parseModelSpec } from '../../src/core/model-spec';
import { opsInputTensor } from './input-ops';
import { topK } from '../../src/core/predictions';
import { showResults } from '../peer-page';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});
performance.mark('glimpse:start');

const status = document.querySelector<HTMLElement>('[data-testid="model-status"]')!;
const backend = new URLSearchParams(location.search).get('backend') ?? 'wasm';

const ready = (async () => {
  // The union bundle has no webgpu: a backend it lacks falls back to wasm, as tutorials' pages would.
  const ok = await tf.setBackend(backend).catch(() => false);
  if (!ok) await tf.setBackend('wasm');
  const [model, metadata, labels] = await Promise.all([
    tf.loadGraphModel('/model/model.json'),
    fetch('/model/metadata.json').then((r) => r.json()),
    fetch('/model/labels.json').then((r) => r.json() as Promise<string[]>),
  ]);
  performance.mark('glimpse:model-downloaded');
  performance.mark('glimpse:warmup');
  const spec = parseModelSpec(metadata);
  tf.tidy(() => model.predict(tf.zeros([1, ...spec.inputSize, 3])) as tf.Tensor).dispose();
  performance.mark('glimpse:ready');
  status.dataset.state = 'ready';
  status.dataset.backend = tf.getBackend();
  status.textContent = `ready on ${tf.getBackend()}`;
  return { model, spec, labels };
})();

showResults(
  () => tf.getBackend(),
  async (pixels) => {
    const { model, spec, labels } = await ready;
    const input = opsInputTensor(pixels, spec);
    const output = model.predict(input) as tf.Tensor;
    const probabilities = (await output.data()) as Float32Array;
    tf.dispose([input, output]);
    return topK(probabilities, labels, 5);
  },
);
