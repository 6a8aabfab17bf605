import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { classify, shownPredictions, waitReady } from '../e2e/app';
import { requireShared, SHARED } from './shared';

const baseUrl = inject('baseUrl');
const NSFWJS = resolve(SHARED, 'models/nsfwjs-mobilenet-v2-layers');
const PHOTOS = resolve(import.meta.dirname, '../fixtures');
const upload = (dir: string, names: string[]) =>
  names.map((name) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(resolve(dir, name)) }));

describe('a real third-party model through the Models view', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it('imports nsfwjs (a Keras layers model whose shard has no extension) and answers as tf.loadLayersModel does, within 1e-3', async () => {
    requireShared();
    // 224×224 photos: the model's input size, so the app and the reference see the same pixels.
    const photos = await Promise.all(
      ['parrot.jpg', 'cat.png'].map(async (name) => ({
        name: `${name}.224.png`,
        mimeType: 'image/png',
        buffer: await sharp(resolve(PHOTOS, name)).resize(224, 224, { fit: 'fill' }).removeAlpha().png().toBuffer(),
      })),
    );
    const json = JSON.parse(readFileSync(resolve(NSFWJS, 'model.json'), 'utf8'));
    const weights = readFileSync(resolve(NSFWJS, 'group1-shard1of1'));
    const reference = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    );

    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      const started = Date.now();
      await page.getByTestId('model-import').setInputFiles(upload(NSFWJS, readdirSync(NSFWJS)));
      await expect
        .poll(() => page.getByTestId('model-status').getAttribute('data-model'))
        .toBe('byo_nsfwjs_mobilenet_v2_uint8');
      const importMs = Date.now() - started;
      const item = await page.locator('[data-testid="model-item"][data-active="true"]').innerText();
      console.log(`nsfwjs import: ${importMs} ms to active; listed as: ${item.replace(/\s+/g, ' ')}`);
      await page.getByTestId('view-classify').click();
      await classify(page, photos);
      for (const photo of photos) {
        const shown = await shownPredictions(page, photo.name);
        const { data, info } = await sharp(photo.buffer).raw().toBuffer({ resolveWithObject: true });
        const expected = tf.tidy(() =>
          (
            reference.predict(
              tf.tensor4d(
                Float32Array.from(data, (x) => x / 255),
                [1, info.height, info.width, 3],
              ),
            ) as tf.Tensor
          ).dataSync(),
        );
        const worst = Math.max(...shown.map((p) => Math.abs(p.probability - expected[p.index]!)));
        console.log(
          `${photo.name}: top-1 ${shown[0]!.label} ${shown[0]!.probability.toFixed(4)}, largest difference from the reference ${worst.toExponential(2)}`,
        );
        expect(worst).toBeLessThan(1e-3);
      }
    } finally {
      reference.dispose();
      await close();
    }
  });

  it("imports a model of the built-in model's size, and says how long it took and what it stores", async () => {
    requireShared();
    const dir = resolve(SHARED, 'models/tf2-mobilenet-v2-1.0-224-float16');
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      const started = Date.now();
      await page.getByTestId('model-import').setInputFiles(upload(dir, readdirSync(dir)));
      await expect
        .poll(() => page.locator('[data-testid="model-item"][data-active="true"]').getAttribute('data-model-id'))
        .not.toBe('builtin');
      const importMs = Date.now() - started;
      console.log(
        `tf2-mobilenet-v2 float16 (7.0 MB) import: ${importMs} ms to active; listed as: ${(await page.locator('[data-testid="model-item"][data-active="true"]').innerText()).replace(/\s+/g, ' ')}`,
      );
      await page.getByTestId('view-classify').click();
      await classify(page, [resolve(PHOTOS, 'parrot.jpg')]);
      expect((await shownPredictions(page, 'parrot.jpg'))[0]!.label).toBe('macaw');
    } finally {
      await close();
    }
  });
});
