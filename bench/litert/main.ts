/// <reference path="../../workers/litert-glue.d.ts" />
import { loadAndCompile, loadLiteRt, Tensor } from '@litertjs/core';
import glue from '@litertjs/core/wasm/litert_wasm_internal.js?url';
import wasm from '@litertjs/core/wasm/litert_wasm_internal.wasm?url';
import threadedGlue from '@litertjs/core/wasm/litert_wasm_threaded_internal.js?url';
import threadedWasm from '@litertjs/core/wasm/litert_wasm_threaded_internal.wasm?url';
import { modelInput } from '../../src/core/model-input';
import { parseModelSpec } from '../../src/core/model-spec';
import { classProbabilities, topK } from '../../src/core/predictions';
import { showResults } from '../peer-page';

performance.mark('glimpse:start');
const threads =
  new URLSearchParams(location.search).has('threads') && crossOriginIsolated ? navigator.hardwareConcurrency : 1;
const status = document.querySelector<HTMLElement>('[data-testid="model-status"]')!;
const name = threads > 1 ? `litert-${threads}-threads` : 'litert';

const ready = (async () => {
  // The wasm files have hashed names here, so the glue is told where its wasm is.
  (window as unknown as { Module: object }).Module = {
    locateFile: () => new URL(threads > 1 ? threadedWasm : wasm, location.href).href,
  };
  await loadLiteRt(new URL(threads > 1 ? threadedGlue : glue, location.href).href);
  const [bytes, metadata, labels] = await Promise.all([
    fetch('/model/model.tflite').then((r) => r.arrayBuffer()),
    fetch('/model/metadata.json').then((r) => r.json()),
    fetch('/model/labels.json').then((r) => r.json() as Promise<string[]>),
  ]);
  performance.mark('glimpse:model-downloaded');
  const model = await loadAndCompile(new Uint8Array(bytes), {
    accelerator: 'wasm',
    cpuOptions: { numThreads: threads },
  });
  const spec = parseModelSpec(metadata);
  performance.mark('glimpse:warmup');
  const blank = new Tensor(new Uint8Array(spec.inputSize[0] * spec.inputSize[1] * 3), [1, ...spec.inputSize, 3]);
  for (const t of await model.run(blank)) t.delete();
  blank.delete();
  performance.mark('glimpse:ready');
  Object.assign(status.dataset, { state: 'ready', backend: name });
  status.textContent = `ready on ${name}`;
  return { model, spec, labels };
})();

/** The model's input is uint8 (scale 1/128, zero point 128) and its output uint8 probabilities (scale 1/256) over 1001 classes. */
showResults(
  () => name,
  async (pixels) => {
    const { model, spec, labels } = await ready;
    const input = new Tensor(modelInput(pixels, spec, { scale: 1 / 128, zeroPoint: 128 }), [1, ...spec.inputSize, 3]);
    const [output, ...rest] = await model.run(input);
    const raw = output!.toTypedArray();
    for (const t of [input, output!, ...rest]) t.delete();
    const probabilities = classProbabilities(
      Float32Array.from(raw.subarray(1), (q) => q / 256),
      labels.length,
      0,
      false,
    );
    return topK(probabilities, labels, 5);
  },
);
