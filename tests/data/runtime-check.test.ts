import { resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { RUNTIME_TOLERANCE } from '../../src/core/model-trial';
import { FIXTURES, waitReady } from '../e2e/app';
import { requireShared, SHARED } from './shared';

/** Every shared .tflite, imported in Chromium: its converted copy against LiteRT running the file, on the trial's images. */

const baseUrl = inject('baseUrl');
const MODELS = [
  resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite'),
  resolve(SHARED, 'models/tflite/mobilenet_v2_1.0_224_quant.tflite'),
  resolve(SHARED, 'models/tflite/tf2_mobilenet_v2_1.0_224_ptq.tflite'),
  resolve(SHARED, 'models/tflite-small/mobilenet_v1_0.25_128_quant.tflite'),
  resolve(SHARED, 'models/tflite-small/mobilenet_v1_0.5_160_quant.tflite'),
  resolve(SHARED, 'models/tflite-extra/inat-insect/mobilenet_v2_1.0_224_inat_insect_quant.tflite'),
];

describe('the runtime check on real TFLite files', () => {
  it('finds each converted copy within rounding of LiteRT, and says by how much', { timeout: 600_000 }, async () => {
    requireShared();
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    const figures: string[] = [];
    try {
      await waitReady(page);
      for (const file of MODELS) {
        const name = file
          .split('/')
          .pop()!
          .replace(/\.tflite$/, '');
        await page.getByTestId('model-import').setInputFiles(file);
        await expect
          .poll(() => page.getByTestId('model-status').getAttribute('data-model'), { timeout: 120_000 })
          .toBe(name);
        const check = page.locator(`[data-testid="model-item"][data-model-name="${name}"]`).getByTestId('model-check');
        const [agreed, largest] = [
          await check.getAttribute('data-agreed'),
          Number(await check.getAttribute('data-largest')),
        ];
        figures.push(
          `${name}: ${agreed === 'unknown' ? `not checked (${await check.innerText()})` : `largest difference ${largest.toFixed(4)}`}`,
        );
        if (agreed !== 'unknown') {
          expect(agreed, name).toBe('true');
          expect(largest).toBeLessThanOrEqual(RUNTIME_TOLERANCE);
        }
      }
    } finally {
      console.log(
        `runtime check (converted tfjs graph vs LiteRT, ${MODELS.length} files, 6 probe images each, tolerance ${RUNTIME_TOLERANCE}):\n  ${figures.join('\n  ')}`,
      );
      await close();
    }
  });
});
