import { ImageClassifier } from '@mediapipe/tasks-vision';
import wasmLoaderPath from '@mediapipe/tasks-vision/vision_wasm_internal.js?url';
import wasmBinaryPath from '@mediapipe/tasks-vision/vision_wasm_internal.wasm?url';
import { showResults } from '../peer-page';

performance.mark('glimpse:start');
const status = document.querySelector<HTMLElement>('[data-testid="model-status"]')!;

const ready = (async () => {
  const [labels, model] = await Promise.all([
    fetch('/model/labels.json').then((r) => r.json() as Promise<string[]>),
    fetch('/model/model.tflite').then(async (r) => new Uint8Array(await r.arrayBuffer())),
  ]);
  performance.mark('glimpse:model-downloaded');
  const classifier = await ImageClassifier.createFromOptions(
    { wasmLoaderPath, wasmBinaryPath },
    { baseOptions: { modelAssetBuffer: model, delegate: 'CPU' }, runningMode: 'IMAGE', maxResults: 5 },
  );
  performance.mark('glimpse:warmup');
  classifier.classify(new ImageData(224, 224));
  performance.mark('glimpse:ready');
  Object.assign(status.dataset, { state: 'ready', backend: 'mediapipe-cpu' });
  status.textContent = 'ready on MediaPipe (CPU)';
  return { classifier, labels };
})();

// The .tflite's 1001 outputs start with a background class: category i is label i − 1.
showResults(
  () => 'mediapipe-cpu',
  async (pixels) => {
    const { classifier, labels } = await ready;
    const image = new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height);
    const [head] = classifier.classify(image).classifications;
    return (head?.categories ?? []).map((c) => ({
      index: c.index - 1,
      label: labels[c.index - 1] ?? '',
      probability: c.score,
    }));
  },
);
