import { resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, LABELS, shownPredictions, waitReady } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';
import { tfliteMetadata, tinyTflite } from '../helpers/tflite-files';

/** A model's labels and its publisher's words, as the user meets them in the Models view. */

const baseUrl = inject('baseUrl');
const SPECIES = ['Apis mellifera', 'Danaus plexippus', 'Coccinella septempunctata', 'Anax junius'];
const upload = (name: string, bytes: Uint8Array | string) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
const status = (page: Page) => page.getByTestId('model-status');
const item = (page: Page, name: string) => page.locator(`[data-testid="model-item"][data-model-name="${name}"]`);

describe('a model’s labels wherever they come from', () => {
  it('imports a Coral .tflite alone with the labels packed in its metadata, and names the answer', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page.getByTestId('model-import').setInputFiles(resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite'));
      await expect.poll(() => status(page).getAttribute('data-model')).toBe('mobilenet_v1_0.75_192_quant');
      const stored = item(page, 'mobilenet_v1_0.75_192_quant');
      expect(await stored.getByTestId('model-numbered').count()).toBe(0);
      expect(await stored.innerText()).toMatch(/labels from its metadata \(imagenet_labels\.txt\)/);
      expect(await stored.getByTestId('model-about').innerText()).toMatch(/ImageClassifier/);
      await page.getByTestId('view-classify').click();
      await classify(page, [resolve(FIXTURES, 'parrot.jpg')]);
      const top = (await shownPredictions(page, 'parrot.jpg'))[0]!;
      expect([top.index, top.label]).toEqual([EXPECTED_TOP1['parrot.jpg'], LABELS[EXPECTED_TOP1['parrot.jpg']!]]);
    } finally {
      await close();
    }
  });

  it('shows the publisher and licence; says prominently when there are no labels, and takes them later without a new import', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      const metadata = tfliteMetadata({ name: 'Insect spotter', author: 'Garden Lab', license: 'Apache-2.0', description: 'Four garden insects.' });
      await page.getByTestId('model-import').setInputFiles([upload('insects.tflite', tinyTflite(metadata))]);
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

  it('asks which file holds the labels when several could, and imports with the one chosen', async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page.getByTestId('model-import').setInputFiles([upload('bugs.tflite', tinyTflite()), upload('names_a.txt', SPECIES.join('\n')), upload('names_b.txt', [...SPECIES].reverse().join('\n'))]);
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
