import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, shownPredictions, waitReady } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';

const baseUrl = inject('baseUrl');
const PAYLOAD = "<html><script>localStorage.setItem('pwned', '1'); document.title = 'pwned'</script></html>";

/** A real JPEG that is also an HTML page: the payload sits in a comment (COM) segment. */
function polyglotJpeg(): Buffer {
  const jpeg = readFileSync(resolve(FIXTURES, 'parrot.jpg'));
  const text = Buffer.from(PAYLOAD, 'latin1');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(text.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xfe]), length, text, jpeg.subarray(2)]);
}

describe('image previews never run script in the app origin', () => {
  let context: BrowserContext;
  let page: Page;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ context, page, close } = await openPage(baseUrl));
    await waitReady(page);
  });
  afterAll(() => close());

  it('types the preview of a JPEG named .html as image/jpeg, so opening it shows an image', async () => {
    await classify(page, [{ name: 'holiday-photo.html', mimeType: 'text/html', buffer: polyglotJpeg() }]);
    expect((await shownPredictions(page, 'holiday-photo.html'))[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
    const src = await page.locator('article', { hasText: 'holiday-photo.html' }).locator('img').getAttribute('src');
    expect(src).toMatch(/^blob:/);
    const tab = await context.newPage();
    await tab.goto(src!);
    expect(await tab.evaluate(() => document.contentType)).toBe('image/jpeg');
    await tab.close();
    expect(await page.evaluate(() => localStorage.getItem('pwned'))).toBeNull();
  });

  it('gives a refused file no preview at all', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>localStorage.setItem("pwned", "1")</script></svg>';
    await classify(page, [{ name: 'script.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(svg) }]);
    await expect
      .poll(() => page.getByTestId('image-error').getAttribute('data-error'), { timeout: 30_000 })
      .toBe('UnsupportedFormatError');
    expect(await page.locator('article', { hasText: 'script.svg' }).locator('img').count()).toBe(0);
  });
});
