import { resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { runEval } from '../../tools/eval';
import { classify, shownPredictions, waitReady } from '../e2e/app';
import { CORAL, coralExpectations, requireShared, SAMPLE_1000, sampleFiles } from './shared';

const baseUrl = inject('baseUrl');

describe('the app in Chromium on the shared images (real worker pipeline)', () => {
  /** A reference lead under 10 points is within preprocessing noise: the label must then be in our top 2. */
  it('gets the expected top-1 on every clear coral photo, and top-2 on close calls', async () => {
    requireShared();
    const expected = coralExpectations();
    expect(Object.keys(expected)).toHaveLength(10);
    const { page, close } = await openPage(baseUrl);
    try {
      await waitReady(page);
      await classify(
        page,
        Object.keys(expected).map((f) => resolve(CORAL, f)),
      );
      for (const [file, { index, margin }] of Object.entries(expected)) {
        const shown = (await shownPredictions(page, file)).map((p) => p.index);
        if (margin >= 10) expect(shown[0], file).toBe(index);
        else expect(shown.slice(0, 2), file).toContain(index);
      }
    } finally {
      await close();
    }
  });

  /** Top-1 of each photo, per backend, to compare the engines photo by photo. */
  const top1s: Record<string, number[]> = {};

  // tfjs's wasm (float kernels on the dequantized model) and LiteRT (integer kernels on the .tflite)
  // are the two engines the automatic choice picks from here: both are held to the reference.
  it.each(['wasm', 'litert'])(
    'scores imagenet-sample-1000 on %s as the Node reference (npm run eval) does, within half a point',
    async (backend) => {
      requireShared();
      const files = sampleFiles();
      expect(files).toHaveLength(1000);
      // The one source of the figures the README quotes: npm run eval on the shipped model.
      const reference = await runEval({
        model: resolve(import.meta.dirname, '../../public/model/model.json'),
        images: SAMPLE_1000,
      });
      const navigation = Date.now();
      const { page, close } = await openPage(`${baseUrl}?backend=${backend}`);
      try {
        expect(await waitReady(page)).toBe(backend);
        const readyMs = Date.now() - navigation;
        await classify(
          page,
          files.map((f) => resolve(SAMPLE_1000, f)),
        );
        let top1 = 0;
        let top5 = 0;
        top1s[backend] = [];
        for (const [index, file] of files.entries()) {
          const predictions = await shownPredictions(page, file, 300_000);
          top1s[backend].push(predictions[0]!.index);
          if (predictions[0]!.index === index) top1++;
          if (predictions.some((p) => p.index === index)) top5++;
        }
        const ms = await page
          .locator('[data-testid="predictions"]')
          .evaluateAll((lists) => lists.map((l) => Number(l.getAttribute('data-ms'))));
        const perImage = ms.filter(Number.isFinite).sort((a, b) => a - b);
        console.log(
          `imagenet-sample-1000 in Chromium on ${backend}: top-1 ${(top1 / 10).toFixed(1)}%, top-5 ${(top5 / 10).toFixed(1)}% ` +
            `(Node reference ${(100 * reference.top1).toFixed(1)}% / ${(100 * reference.top5).toFixed(1)}%), ` +
            `median ${perImage[perImage.length >> 1]?.toFixed(1)} ms/image in the worker, ready ${readyMs} ms after navigation`,
        );
        if (top1s.wasm && top1s.litert)
          console.log(
            `wasm and LiteRT agree on the top-1 of ${top1s.wasm.filter((t, i) => t === top1s.litert![i]).length} of 1000 photos`,
          );
        // The canvas resample in the browser and sharp in Node differ by a pixel here and there.
        expect(Math.abs(top1 / 1000 - reference.top1)).toBeLessThanOrEqual(0.005);
        expect(Math.abs(top5 / 1000 - reference.top5)).toBeLessThanOrEqual(0.005);
      } finally {
        await close();
      }
    },
  );
});
