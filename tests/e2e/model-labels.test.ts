import { resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { classify, expectParrotNamed, FIXTURES, shownPredictions, waitReady } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';
import { tfliteMetadata, tinyTflite } from '../helpers/tflite-files';
import { tinyOnnx } from '../helpers/onnx-files';
import { teachableMachineExport, TM_LABELS } from '../helpers/teachable-machine';
import sharp from 'sharp';
import { MESSAGES } from '../../src/lib/messages';

/** A model's labels and its publisher's words, as the user meets them in the Models view. */

const baseUrl = inject('baseUrl');
const SPECIES = ['Apis mellifera', 'Danaus plexippus', 'Coccinella septempunctata', 'Anax junius'];
const upload = (name: string, bytes: Uint8Array | string) => ({
  name,
  mimeType: 'application/octet-stream',
  buffer: Buffer.from(bytes),
});
const status = (page: Page) => page.getByTestId('model-status');
const item = (page: Page, name: string) => page.locator(`[data-testid="model-item"][data-model-name="${name}"]`);

describe('a model’s labels wherever they come from', () => {
  it('imports a Coral .tflite alone with the labels packed in its metadata, and names the answer', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      // The privacy line is said once on the view, not twice.
      expect(await page.getByText(MESSAGES.en.privacy).count()).toBe(1);
      // Each step of the import is shown as it happens.
      await page.evaluate(() => {
        const seen: string[] = ((window as unknown as { steps: string[] }).steps = []);
        new MutationObserver(() => {
          const step = document.querySelector('[data-testid="model-import-step"]')?.getAttribute('data-step');
          if (step && seen.at(-1) !== step) seen.push(step);
        }).observe(document.body, { subtree: true, childList: true, attributes: true });
      });
      await page.getByTestId('model-import').setInputFiles(resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite'));
      await expect.poll(() => status(page).getAttribute('data-model')).toBe('mobilenet_v1_0.75_192_quant');
      await expect.poll(() => page.getByTestId('model-import-step').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { steps: string[] }).steps)).toEqual([
        'reading',
        'trial',
        'check',
        'storing',
        'warming',
      ]);
      const stored = item(page, 'mobilenet_v1_0.75_192_quant');
      expect(await stored.getByTestId('model-numbered').count()).toBe(0);
      expect(await stored.innerText()).toMatch(/labels from its metadata \(imagenet_labels\.txt\)/);
      expect(await stored.getByTestId('model-about').innerText()).toMatch(/ImageClassifier/);
      // Its converted copy was checked against LiteRT running the file, and agreed.
      expect(await stored.getByTestId('model-check').getAttribute('data-agreed')).toBe('true');
      await expectParrotNamed(page);
    } finally {
      await close();
    }
  });

  it('shows the publisher and licence; says prominently when there are no labels, and takes them later without a new import', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      const metadata = tfliteMetadata({
        name: 'Insect spotter',
        author: 'Garden Lab',
        license: 'Apache-2.0',
        description: 'Four garden insects.',
      });
      await page.getByTestId('model-import').setInputFiles([upload('insects.tflite', tinyTflite({ metadata }))]);
      await expect.poll(() => status(page).getAttribute('data-model')).toBe('insects');
      const stored = item(page, 'insects');
      expect(await stored.getByTestId('model-author').innerText()).toMatch(/Garden Lab/);
      expect(await stored.getByTestId('model-license').innerText()).toMatch(/Apache-2\.0/);
      await expect.poll(() => stored.getByTestId('model-numbered').isVisible()).toBe(true);
      expect(await stored.getByTestId('model-numbered').innerText()).toMatch(/came without labels/);

      await stored.getByTestId('model-add-labels').setInputFiles([upload('insect_names.txt', SPECIES.join('\n'))]);
      const relabelled = item(page, 'insects');
      await expect.poll(() => relabelled.getByTestId('model-numbered').count()).toBe(0);
      expect(await relabelled.innerText()).toMatch(/labels from insect_names\.txt/);
      expect(await relabelled.getAttribute('data-active')).toBe('true');
      await page.getByTestId('view-classify').click();
      await classify(page, [resolve(FIXTURES, 'cat.png')]);
      expect(SPECIES).toContain((await shownPredictions(page, 'cat.png'))[0]!.label);
    } finally {
      await close();
    }
  });

  it('takes an ONNX model’s and a TF.js model’s labels from files of other names', { timeout: 180_000 }, async () => {
    const tm = (await teachableMachineExport()).filter((f) => f.name !== 'metadata.json');
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page
        .getByTestId('model-import')
        .setInputFiles([
          upload('colours.onnx', tinyOnnx()),
          upload('synset.txt', ['n01 red', 'n02 green', 'n03 blue'].join('\n')),
        ]);
      await expect.poll(() => status(page).getAttribute('data-model'), { timeout: 120_000 }).toBe('colours');
      expect(await item(page, 'colours').innerText()).toMatch(/labels from synset\.txt/);
      await page
        .getByTestId('model-import')
        .setInputFiles([
          ...tm.map((f) => upload(f.name, f.bytes)),
          upload('class_names.json', JSON.stringify(TM_LABELS)),
        ]);
      await expect.poll(() => status(page).getAttribute('data-model'), { timeout: 120_000 }).toBe('model');
      expect(await item(page, 'model').getByTestId('model-numbered').count()).toBe(0);
      await page.getByTestId('view-classify').click();
      const blue = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 40, b: 210 } } })
        .png()
        .toBuffer();
      await classify(page, [{ name: 'blue.png', mimeType: 'image/png', buffer: blue }]);
      expect(TM_LABELS).toContain((await shownPredictions(page, 'blue.png'))[0]!.label);
    } finally {
      await close();
    }
  });

  it('asks which file holds the labels when several could, and imports with the one chosen', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page
        .getByTestId('model-import')
        .setInputFiles([
          upload('bugs.tflite', tinyTflite()),
          upload('names_a.txt', SPECIES.join('\n')),
          upload('names_b.txt', [...SPECIES].reverse().join('\n')),
        ]);
      await expect.poll(() => page.getByTestId('model-error').getAttribute('data-error')).toBe('LabelsChoiceError');
      await page.getByTestId('labels-choice').selectOption('names_b.txt');
      await expect.poll(() => status(page).getAttribute('data-model')).toBe('bugs');
      expect(await item(page, 'bugs').innerText()).toMatch(/labels from names_b\.txt/);
      expect(await page.getByTestId('model-error').count()).toBe(0);
    } finally {
      await close();
    }
  });
});

/**
 * A test double of a broken converter: the import worker's script, as served, with its answer's
 * converted graph changed on the way out (every weight's dequantization scale × 1.5). The file itself
 * is untouched, so LiteRT running it still answers as the publisher meant.
 */
const PERTURB = `
const glimpsePost = self.postMessage.bind(self);
const glimpsePerturb = (value, depth = 0) => {
  if (!value || typeof value !== 'object' || depth > 6) return;
  const files = value.files;
  if (files && files['model.json'] && files['model.tflite']) {
    const json = JSON.parse(new TextDecoder().decode(files['model.json']));
    for (const group of json.weightsManifest) for (const w of group.weights) if (w.quantization) { w.quantization.scale *= 1.5; w.quantization.min *= 1.5; }
    files['model.json'] = new TextEncoder().encode(JSON.stringify(json));
    return;
  }
  for (const inner of Object.values(value)) glimpsePerturb(inner, depth + 1);
};
self.postMessage = (message, transfer) => { glimpsePerturb(message); glimpsePost(message, transfer); };
`;

describe('the runtime check against a broken conversion', () => {
  it(
    'refuses a converted copy that answers differently from LiteRT, and runs the file on LiteRT only',
    { timeout: 180_000 },
    async () => {
      let served = 0;
      const { page, close } = await openPage(`${baseUrl}?view=models`, {
        init: (p) =>
          p.route('**/assets/import.worker-*.js', async (route) => {
            const response = await route.fetch();
            served++;
            return route.fulfill({ response, body: PERTURB + (await response.text()) });
          }),
      });
      try {
        await waitReady(page);
        await page.getByTestId('model-import').setInputFiles(resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite'));
        await expect
          .poll(() => status(page).getAttribute('data-model'), { timeout: 120_000 })
          .toBe('mobilenet_v1_0.75_192_quant');
        expect(served).toBe(1);
        const stored = item(page, 'mobilenet_v1_0.75_192_quant');
        const check = stored.getByTestId('model-check');
        expect(await check.getAttribute('data-agreed')).toBe('false');
        console.log(
          `a perturbed conversion against LiteRT: largest difference ${Number(await check.getAttribute('data-largest')).toFixed(3)}`,
        );
        expect(Number(await check.getAttribute('data-largest'))).toBeGreaterThan(0.25);
        expect(await check.innerText()).toMatch(/answered differently from LiteRT .* runs this model on LiteRT only/);
        expect(await stored.innerText()).toMatch(/· tflite ·/);
        await expect.poll(() => status(page).getAttribute('data-backend')).toBe('litert');
        await page.getByTestId('view-classify').click();
        await classify(page, [resolve(FIXTURES, 'parrot.jpg')]);
        expect((await shownPredictions(page, 'parrot.jpg'))[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
        // Stored as the .tflite alone: a reload runs it from storage, on LiteRT again.
        await page.reload();
        await waitReady(page);
        expect([
          await status(page).getAttribute('data-model'),
          await status(page).getAttribute('data-backend'),
        ]).toEqual(['mobilenet_v1_0.75_192_quant', 'litert']);
      } finally {
        await close();
      }
    },
  );
});
