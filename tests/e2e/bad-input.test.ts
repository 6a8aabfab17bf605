import { resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, NO_GPU_BACKENDS, readyPage, shownPredictions, waitReady } from './app';
import { badImages } from '../helpers/bad-images';
import { EXPECTED_TOP1 } from '../helpers/model';

const baseUrl = inject('baseUrl');

describe('bad input gets a clear message and the app keeps working', () => {
  let page: Page;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, close } = await readyPage(baseUrl));
  });
  afterAll(() => close());

  const cases = badImages().map((b) => ({ ...b, mimeType: 'image/png' }));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, bad) => {
    await classify(page, [{ name: bad.name, mimeType: bad.mimeType, buffer: Buffer.from(bad.bytes) }]);
    const error = page.getByTestId('image-error');
    await error.waitFor();
    expect(await error.getAttribute('data-error')).toBe(bad.error);
    expect(await error.innerText()).toMatch(/\w{4,}/);
    await classify(page, [resolve(FIXTURES, 'parrot.jpg')]);
    expect((await shownPredictions(page, 'parrot.jpg'))[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
  });

  it('refuses a real 20000×20000 JPEG from its header, without decoding it', async () => {
    const buffer = await sharp({
      create: { width: 20_000, height: 20_000, channels: 3, background: '#808080' },
      limitInputPixels: false,
    })
      .jpeg({ quality: 10 })
      .toBuffer();
    await classify(page, [{ name: 'huge.jpg', mimeType: 'image/jpeg', buffer }]);
    await expect.poll(() => page.getByTestId('image-error').getAttribute('data-error')).toBe('ImageTooLargeError');
  });
});

describe('a model that fails to load', () => {
  it('shows an error state with a retry that works once the files are back', async () => {
    const MODEL_JSON = /\/model\/model\.json\?v=/;
    const { page, close } = await openPage(baseUrl, {
      init: (p) => p.route(MODEL_JSON, (route) => route.fulfill({ status: 503, body: 'down for maintenance' })),
    });
    try {
      const status = page.getByTestId('model-status');
      await expect.poll(() => status.getAttribute('data-state'), { timeout: 60_000 }).toBe('error');
      expect(await status.innerText()).toMatch(/could not be (loaded|downloaded)/);
      await page.unroute(MODEL_JSON);
      await status.getByRole('button').click();
      expect(NO_GPU_BACKENDS).toContain(await waitReady(page));
    } finally {
      await close();
    }
  });
});

describe('language', () => {
  it('follows a Chinese browser and can be switched to English', async () => {
    const { page, close } = await readyPage(baseUrl, { locale: 'zh-CN' });
    try {
      await expect.poll(() => page.getByTestId('model-status').innerText()).toMatch(/已就绪/);
      expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
      await page.getByTestId('language-select').selectOption('en');
      // The automatic choice may have moved to LiteRT meanwhile: either way the line is in English now.
      await expect.poll(() => page.getByTestId('model-status').innerText()).toMatch(/Ready on (WebAssembly|LiteRT)/);
    } finally {
      await close();
    }
  });
});
