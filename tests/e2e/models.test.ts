import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { classify, expectParrotNamed, FIXTURES, installed, LABELS, shownPredictions, waitReady } from './app';
import { teachableMachineExport, TM_LABELS, TM_NAME } from '../helpers/teachable-machine';
import { EXPECTED_TOP1 } from '../helpers/model';

const baseUrl = inject('baseUrl');
const BUILTIN_NAME = 'mobilenet-v2-1.0-224-quant';
const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 40],
  green: [30, 200, 50],
  blue: [20, 40, 210],
};
type Upload = { name: string; mimeType: string; buffer: Buffer };

let tm: Upload[];
let swatches: Upload[];

/** Teachable Machine's own way to the answer: the model in tfjs, the centre square, x / 127 - 1. */
async function reference(colour: [number, number, number]): Promise<number[]> {
  const files = await teachableMachineExport();
  const json = JSON.parse(new TextDecoder().decode(files[0]!.bytes));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: files[1]!.bytes.slice().buffer,
    }),
  );
  const input = tf.tidy(() =>
    tf
      .tensor4d(Array.from({ length: 64 * 64 }, () => colour).flat(), [1, 64, 64, 3])
      .div(127)
      .sub(1),
  );
  const out = Array.from((model.predict(input) as tf.Tensor).dataSync());
  model.dispose();
  input.dispose();
  return out;
}

const status = (page: Page) => page.getByTestId('model-status');
const items = (page: Page) =>
  page
    .getByTestId('model-list')
    .getByTestId('model-item')
    .evaluateAll((els) => els.map((e) => [e.getAttribute('data-model-name'), e.getAttribute('data-active')]));

describe('your own model', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tm = (await teachableMachineExport()).map((f) => ({
      name: f.name,
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(f.bytes),
    }));
    swatches = await Promise.all(
      Object.entries(COLOURS).map(async ([name, [r, g, b]]) => ({
        name: `${name}.png`,
        mimeType: 'image/png',
        buffer: await sharp({ create: { width: 300, height: 200, channels: 3, background: { r, g, b } } })
          .png()
          .toBuffer(),
      })),
    );
  });

  it(
    'imports a Teachable Machine export, answers as its reference does, keeps it offline, and deletes it',
    { timeout: 240_000 },
    async () => {
      const { page, context, close } = await openPage(`${baseUrl}?view=models`);
      try {
        await waitReady(page);
        await installed(page);
        await page.getByTestId('model-import').setInputFiles(tm);
        await expect.poll(() => status(page).getAttribute('data-model')).toBe(TM_NAME);
        // The list is read again once the import answered: it follows the status line.
        await expect
          .poll(() => items(page))
          .toEqual([
            [BUILTIN_NAME, 'false'],
            [TM_NAME, 'true'],
          ]);

        await page.getByTestId('view-classify').click();
        await classify(page, swatches);
        for (const [name, colour] of Object.entries(COLOURS)) {
          const shown = await shownPredictions(page, `${name}.png`);
          expect(shown[0]!.label).toBe(name);
          const expected = await reference(colour);
          for (const p of shown)
            expect(Math.abs(p.probability - expected[p.index]!), `${name}: ${p.label}`).toBeLessThan(1e-3);
        }

        // Kept on the device: after a reload with no network, it is still the active model.
        await context.setOffline(true);
        await page.reload();
        await waitReady(page);
        expect(await status(page).getAttribute('data-model')).toBe(TM_NAME);
        await page.getByTestId('view-classify').click();
        await classify(page, [swatches[2]!]);
        expect((await shownPredictions(page, 'blue.png'))[0]!.label).toBe('blue');
        await context.setOffline(false);

        await page.getByTestId('view-models').click();
        await page
          .locator(`[data-testid="model-item"][data-model-name="${TM_NAME}"]`)
          .getByTestId('model-delete')
          .click();
        await expect.poll(() => items(page)).toEqual([[BUILTIN_NAME, 'true']]);
        expect(await status(page).getAttribute('data-model')).toBe(BUILTIN_NAME);
      } finally {
        await close();
      }
    },
  );

  it('imports a .tflite with its labels, converted in the browser, and classifies with it', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page.getByTestId('model-import').setInputFiles([
        {
          name: 'mobilenet_v1_0.75_192_quant.tflite',
          mimeType: 'application/octet-stream',
          buffer: readFileSync(resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite')),
        },
        { name: 'labels.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(LABELS)) },
      ]);
      await expect.poll(() => status(page).getAttribute('data-model')).toBe('mobilenet_v1_0.75_192_quant');
      await expectParrotNamed(page);
    } finally {
      await close();
    }
  });

  it('imports model files dropped on the view, not as images to classify', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page.getByTestId('model-drop').evaluate(
        (zone, files) => {
          const transfer = new DataTransfer();
          for (const [name, bytes] of files) transfer.items.add(new File([new Uint8Array(bytes)], name));
          zone.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }));
        },
        tm.map((f) => [f.name, [...f.buffer]] as const),
      );
      await expect.poll(() => status(page).getAttribute('data-model')).toBe(TM_NAME);
      expect(await page.getByTestId('image-error').count()).toBe(0);
      expect(await page.getByTestId('predictions').count()).toBe(0);
    } finally {
      await close();
    }
  });

  it(
    'reads a model in a worker of its own: a reader that crashes fails the import, one that hangs never holds up classification',
    { timeout: 240_000 },
    async () => {
      let reader = 'throw new Error("the reader crashed");';
      let replaced = 0;
      const { page, close } = await openPage(`${baseUrl}?view=models`, {
        init: (p) =>
          p.route('**/assets/import.worker-*.js', (route) => {
            replaced++;
            return route.fulfill({ contentType: 'text/javascript', body: reader });
          }),
      });
      try {
        await waitReady(page);
        const tflite = resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite');
        await page.getByTestId('model-import').setInputFiles(tflite);
        const error = page.getByTestId('model-error');
        await expect.poll(() => error.getAttribute('data-error')).toBe('ModelFormatError');
        expect(await error.innerText()).toMatch(/could not be read: .*the reader crashed/);
        expect(replaced).toBe(1);
        expect(await status(page).getAttribute('data-model')).toBe(BUILTIN_NAME);

        reader = 'for (;;) {}';
        await page.getByTestId('model-import').setInputFiles(tflite);
        await expect.poll(() => replaced).toBe(2);
        await page.getByTestId('view-classify').click();
        await classify(page, [resolve(FIXTURES, 'parrot.jpg')]);
        expect((await shownPredictions(page, 'parrot.jpg'))[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
        expect(await status(page).getAttribute('data-model')).toBe(BUILTIN_NAME);
      } finally {
        await close();
      }
    },
  );

  it('never runs the user’s own active model in the embed frame: a page embedding Glimpse gets the built-in one', async () => {
    const { page, context, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page.getByTestId('model-import').setInputFiles(tm);
      await expect.poll(() => status(page).getAttribute('data-model')).toBe(TM_NAME);
      const embed = await context.newPage();
      await embed.goto(`${baseUrl}embed.html`);
      await waitReady(embed);
      expect(await status(embed).getAttribute('data-model')).toBe(BUILTIN_NAME);
      // The user's own choice is untouched.
      expect(await status(page).getAttribute('data-model')).toBe(TM_NAME);
    } finally {
      await close();
    }
  });

  it('catches a stored model whose labels and manifest entry were changed together, and runs the built-in one', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page.getByTestId('model-import').setInputFiles(tm);
      await expect.poll(() => status(page).getAttribute('data-model')).toBe(TM_NAME);
      // Swapped labels, with the manifest entry rewritten to match: every file still passes its own check.
      const edited = await page.evaluate(async () => {
        const db = await new Promise<IDBDatabase>(
          (done) => (indexedDB.open('glimpse-models').onsuccess = (e) => done((e.target as IDBOpenDBRequest).result)),
        );
        const tx = (mode: IDBTransactionMode) => db.transaction('models', mode).objectStore('models');
        const request = <T>(r: IDBRequest<T>) => new Promise<T>((done) => (r.onsuccess = () => done(r.result)));
        const id = (await request(tx('readonly').get('active'))) as string;
        const files = (await request(tx('readonly').get(`files:${id}`))) as Record<string, Uint8Array>;
        const labels = new TextEncoder().encode(JSON.stringify(['blue', 'green', 'red']));
        const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json']));
        const sha256 = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', labels)), (b) =>
          b.toString(16).padStart(2, '0'),
        ).join('');
        manifest.files['labels.json'] = { bytes: labels.byteLength, sha256 };
        files['labels.json'] = labels;
        files['manifest.json'] = new TextEncoder().encode(JSON.stringify(manifest));
        await request(tx('readwrite').put(files, `files:${id}`));
        return manifest.version === id;
      });
      expect(edited).toBe(true);
      await page.reload();
      await waitReady(page);
      expect(await status(page).getAttribute('data-model')).toBe(BUILTIN_NAME);
      expect(await page.getByTestId('model-problem').innerText()).toMatch(/was changed/);
    } finally {
      await close();
    }
  });

  it('refuses a broken model with a specific message and keeps the working one', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      const broken = tm.map((f) => (f.name === 'weights.bin' ? { ...f, buffer: f.buffer.subarray(0, 16) } : f));
      await page.getByTestId('model-import').setInputFiles(broken);
      const error = page.getByTestId('model-error');
      await error.waitFor();
      expect(await error.getAttribute('data-error')).toBe('ModelFormatError');
      expect(await error.innerText()).toMatch(/weights\.bin.*short/);
      expect(await status(page).getAttribute('data-model')).toBe(BUILTIN_NAME);
      await expect.poll(() => items(page)).toEqual([[BUILTIN_NAME, 'true']]);
      await page.getByTestId('view-classify').click();
      await classify(page, [resolve(FIXTURES, 'cat.png')]);
      expect((await shownPredictions(page, 'cat.png'))[0]!.index).toBe(EXPECTED_TOP1['cat.png']);
      expect(TM_LABELS).toHaveLength(3);
    } finally {
      await close();
    }
  });
});
