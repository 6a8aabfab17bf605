import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { parseModelSpec } from '../../src/core/model-spec';
import { toInputTensor } from '../../src/core/preprocess';
import { topK } from '../../src/core/predictions';

setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });
performance.mark('glimpse:start');

const status = document.querySelector<HTMLElement>('[data-testid="model-status"]')!;
const results = document.getElementById('results')!;
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

async function classify(file: File): Promise<void> {
  const { model, spec, labels } = await ready;
  const bitmap = await createImageBitmap(file);
  const start = performance.now();
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  const input = toInputTensor({ data, width: bitmap.width, height: bitmap.height, channels: 4 }, spec);
  const output = model.predict(input) as tf.Tensor;
  const probabilities = (await output.data()) as Float32Array;
  tf.dispose([input, output]);
  const ms = performance.now() - start;
  if (!performance.getEntriesByName('glimpse:first-result').length) performance.mark('glimpse:first-result');
  const list = document.createElement('ol');
  Object.assign(list.dataset, { testid: 'predictions', imageName: file.name, ms: ms.toFixed(1), backend: tf.getBackend() });
  for (const p of topK(probabilities, labels, 5)) {
    const item = document.createElement('li');
    Object.assign(item.dataset, { testid: 'prediction', label: p.label, index: String(p.index), probability: String(p.probability) });
    item.textContent = `${p.label} ${(100 * p.probability).toFixed(1)}%`;
    list.append(item);
  }
  results.append(list);
}

// Created by the script, as an SPA's would be, so it never exists without its listener.
const picker = Object.assign(document.createElement('input'), { type: 'file', accept: 'image/*', multiple: true });
picker.dataset.testid = 'image-input';
document.body.prepend(picker);
picker.addEventListener('change', async (event) => {
  const input = event.currentTarget as HTMLInputElement;
  const files = Array.from(input.files ?? []);
  input.value = '';
  results.replaceChildren();
  for (const file of files) await classify(file);
});
