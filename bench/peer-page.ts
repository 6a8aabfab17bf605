import type { Pixels } from '../src/core/model-input';
import type { Prediction } from '../src/core/predictions';

/**
 * What every page the benchmark measures shows, as Glimpse shows it: a file input
 * (`image-input`) and, per photo, a `predictions` list with the page's own ms per image
 * (pixels, input, inference, top-k) and the `glimpse:first-result` mark. Photos are
 * classified one after another, on the main thread, as tutorials do.
 */
export function showResults(backend: () => string, infer: (pixels: Pixels) => Promise<Prediction[]>): void {
  const results = document.getElementById('results')!;

  async function classify(file: File): Promise<void> {
    const bitmap = await createImageBitmap(file);
    const start = performance.now();
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    const predictions = await infer({ data, width: bitmap.width, height: bitmap.height, channels: 4 });
    const ms = performance.now() - start;
    if (!performance.getEntriesByName('glimpse:first-result').length) performance.mark('glimpse:first-result');
    const list = document.createElement('ol');
    Object.assign(list.dataset, { testid: 'predictions', imageName: file.name, ms: ms.toFixed(1), backend: backend() });
    for (const p of predictions) {
      const item = document.createElement('li');
      Object.assign(item.dataset, {
        testid: 'prediction',
        label: p.label,
        index: String(p.index),
        probability: String(p.probability),
      });
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
}
