import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { classify, FIXTURES, readyPage, shownPredictions } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';

const baseUrl = inject('baseUrl');
const copies = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    name: `copy-${String(i).padStart(2, '0')}.jpg`,
    mimeType: 'image/jpeg',
    buffer: readFileSync(resolve(FIXTURES, 'hot_dog.jpg')),
  }));

describe('batch mode', () => {
  let page: Page;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ page, close } = await readyPage(baseUrl));
  });
  afterAll(() => close());

  it('classifies many files with a count, then exports CSV and JSON', async () => {
    const names = Object.keys(EXPECTED_TOP1);
    await classify(
      page,
      names.map((n) => resolve(FIXTURES, n)),
    );
    await expect
      .poll(() => page.getByTestId('batch-count').innerText())
      .toBe(`${names.length} of ${names.length} images`);
    for (const name of names) expect((await shownPredictions(page, name))[0]!.index).toBe(EXPECTED_TOP1[name]);

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const rows = readFileSync(await csv.path(), 'utf8')
      .trim()
      .split('\n');
    // The columns as before, and `sure` last (no minimum confidence is set: every answer is sure).
    expect(rows[0]).toBe('image,rank,label,index,probability,backend,ms,error,sure');
    expect(rows).toHaveLength(1 + 5 * names.length);
    expect(rows.find((r) => r.startsWith('parrot.jpg,1,'))).toMatch(
      /^parrot\.jpg,1,macaw,88,0\.\d+,wasm,[\d.]+,,true$/,
    );

    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    const exported = JSON.parse(readFileSync(await json.path(), 'utf8')) as {
      image: string;
      predictions: { index: number }[];
      sure: boolean;
    }[];
    expect(exported.map((e) => [e.image, e.predictions[0]!.index, e.sure])).toEqual(
      names.map((n) => [n, EXPECTED_TOP1[n], true]),
    );
  });

  it('says when a new pick replaced earlier answers, and keeps them on request', async () => {
    await classify(page, [resolve(FIXTURES, 'parrot.jpg'), resolve(FIXTURES, 'cat.png')]);
    await shownPredictions(page, 'cat.png');
    await expect.poll(() => page.getByTestId('batch-count').innerText()).toBe('2 of 2 images');
    await classify(page, [resolve(FIXTURES, 'bird.png')]);
    await shownPredictions(page, 'bird.png');
    const notice = page.getByTestId('results-replaced');
    expect(await notice.getAttribute('data-count')).toBe('2');
    expect(await notice.innerText()).toMatch(/replaced 2 earlier answers/);
    expect(
      await page
        .locator('[data-testid="predictions"]')
        .evaluateAll((lists) => lists.map((l) => l.getAttribute('data-image-name'))),
    ).toEqual(['bird.png']);
    await page.getByTestId('results-keep').click();
    await expect
      .poll(() =>
        page
          .locator('[data-testid="predictions"]')
          .evaluateAll((lists) => lists.map((l) => l.getAttribute('data-image-name'))),
      )
      .toEqual(['bird.png', 'parrot.jpg', 'cat.png']);
    expect(await notice.count()).toBe(0);
    expect(await page.getByTestId('batch-count').innerText()).toBe('3 of 3 images');
    expect((await shownPredictions(page, 'parrot.jpg'))[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
  });

  it('cancels a running batch, and the next selection still classifies', async () => {
    await classify(page, copies(40));
    await page.getByTestId('batch-cancel').click();
    await expect.poll(() => page.locator('[data-error="CancelledError"]').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('predictions').count()).toBeLessThan(40);
    await classify(page, [resolve(FIXTURES, 'bird.png')]);
    expect((await shownPredictions(page, 'bird.png'))[0]!.index).toBe(EXPECTED_TOP1['bird.png']);
  });
});
