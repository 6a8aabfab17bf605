import { resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { classify, expectWellFormed, FIXTURES, NO_GPU_BACKENDS, shownPredictions, waitReady, waitSettled } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';

const baseUrl = inject('baseUrl');

/** Software WebGPU takes ~20 s for its first inference here, so it gets one image; the others get two. */
const FORCED = [
  { backend: 'wasm', images: ['parrot.jpg', 'cat.png'] },
  { backend: 'litert', images: ['parrot.jpg', 'cat.png', 'hot_dog.jpg', 'bird.png', 'dragonfly.png'] },
  { backend: 'cpu', images: ['parrot.jpg', 'hot_dog.jpg'] },
  { backend: 'webgl', images: ['parrot.jpg', 'hot_dog.jpg'] },
  { backend: 'webgpu', images: ['parrot.jpg'] },
];

describe.each(FORCED)('?backend=$backend', ({ backend, images }) => {
  it(`runs on ${backend} and gives the expected top-1`, async () => {
    const { page, close } = await openPage(`${baseUrl}?backend=${backend}`);
    try {
      expect(await waitReady(page, 170_000)).toBe(backend);
      await expect.poll(() => page.getByTestId('model-status').innerText()).toMatch(/chosen in settings/);
      await classify(
        page,
        images.map((n) => resolve(FIXTURES, n)),
      );
      for (const name of images) {
        const predictions = await shownPredictions(page, name, 170_000);
        expectWellFormed(predictions);
        expect(predictions[0]!.index, `${name} on ${backend}`).toBe(EXPECTED_TOP1[name]);
        // Answers with no probability (a uint8 model's exact zeros) are one line, not rows listed by index.
        const list = page.locator(`[data-testid="predictions"][data-image-name="${name}"]`);
        const hidden = await list
          .locator('[data-testid="prediction"][hidden]')
          .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-probability'))));
        expect(hidden.every((p) => p === 0)).toBe(true);
        expect(await list.getByTestId('predictions-rest-zero').isVisible()).toBe(hidden.length > 0);
        if (backend === 'litert' && name === 'parrot.jpg')
          expect(hidden.length, 'LiteRT’s uint8 answer for the parrot has exact zeros').toBeGreaterThan(0);
      }
    } finally {
      await close();
    }
  });
});

describe('fallback and the settings control', () => {
  it('falls back to wasm, and says so, when a forced WebGPU has no adapter', async () => {
    const { page, close } = await openPage(`${baseUrl}?backend=webgpu`, { webgpu: false });
    try {
      expect(await waitReady(page)).toBe('wasm');
      await expect.poll(() => page.getByTestId('model-status').innerText()).toMatch(/could not start/);
      await classify(page, [resolve(FIXTURES, 'bird.png')]);
      expect((await shownPredictions(page, 'bird.png'))[0]!.index).toBe(EXPECTED_TOP1['bird.png']);
    } finally {
      await close();
    }
  });

  it('switches backend from the settings control without reloading the model files', async () => {
    const modelRequests: string[] = [];
    const { page, close } = await openPage(baseUrl, {
      init: async (p) => void p.on('request', (r) => r.url().includes('/model/') && modelRequests.push(r.url())),
    });
    try {
      expect(NO_GPU_BACKENDS).toContain(await waitReady(page));
      // The automatic trial fetches LiteRT's .tflite once; after it, switching fetches nothing.
      await waitSettled(page);
      const downloads = modelRequests.length;
      await page.getByTestId('backend-select').selectOption('cpu');
      await expect
        .poll(() => page.getByTestId('model-status').getAttribute('data-backend'), { timeout: 60_000 })
        .toBe('cpu');
      await classify(page, [resolve(FIXTURES, 'dragonfly.png')]);
      const predictions = await shownPredictions(page, 'dragonfly.png');
      expect(predictions[0]!.index).toBe(EXPECTED_TOP1['dragonfly.png']);
      expect(modelRequests.length).toBe(downloads);
    } finally {
      await close();
    }
  });
});
