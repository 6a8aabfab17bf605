import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { classify, expectWellFormed, FIXTURES, longTasks, observeLongTasks, shownPredictions, waitReady } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';

const baseUrl = inject('baseUrl');

describe('automatic backend, the way a visitor meets it', () => {
  let page: Page;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, close } = await openPage(baseUrl, {
      init: observeLongTasks,
    }));
  });
  afterAll(() => close());

  it('answers on wasm first, then times LiteRT against it on this GPU-less machine and keeps the clearly faster, saying why', async () => {
    expect(['wasm', 'litert']).toContain(await waitReady(page));
    await expect.poll(() => page.getByTestId('model-status').innerText()).toMatch(/measured fastest on this device/);
    await page.getByTestId('diagnostics').locator('summary').click();
    const trials = Object.fromEntries(
      await page
        .getByTestId('diag-trial')
        .evaluateAll((chips) => chips.map((c) => [c.getAttribute('data-backend'), Number(c.getAttribute('data-ms'))])),
    );
    expect(Object.keys(trials).sort()).toEqual(['litert', 'wasm']);
    console.log(`automatic choice on this machine: warm ms per image ${JSON.stringify(trials)}`);
    expect(await page.getByTestId('model-status').getAttribute('data-backend')).toBe(
      trials.litert < 0.9 * trials.wasm ? 'litert' : 'wasm',
    );
    await page.getByTestId('diagnostics').locator('summary').click();
  });

  it('classifies every fixture photo with the expected top-1, without long main-thread tasks', async () => {
    const names = Object.keys(EXPECTED_TOP1);
    await longTasks(page, true);
    await classify(
      page,
      names.map((n) => resolve(FIXTURES, n)),
    );
    for (const name of names) {
      const predictions = await shownPredictions(page, name);
      expectWellFormed(predictions);
      expect(predictions[0]!.index, name).toBe(EXPECTED_TOP1[name]);
    }
    expect(Math.max(0, ...(await longTasks(page)))).toBeLessThan(200);
  });

  it('decodes a big photo turned by its EXIF straight to the size the model needs, upright, with the answer of the photo itself', async () => {
    const parrot = readFileSync(resolve(FIXTURES, 'parrot.jpg'));
    // Stored on its side at 4× the size, shown upright by its orientation tag (6: turn a quarter clockwise).
    const big = await sharp(parrot)
      .rotate(-90)
      .resize({ width: 929 * 4 })
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 92 })
      .toBuffer();
    await classify(page, [
      { name: 'parrot.jpg', mimeType: 'image/jpeg', buffer: parrot },
      { name: 'big-parrot.jpg', mimeType: 'image/jpeg', buffer: big },
    ]);
    const [shown, own] = [await shownPredictions(page, 'big-parrot.jpg'), await shownPredictions(page, 'parrot.jpg')];
    expect(shown[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
    expect(Math.abs(shown[0]!.probability - own[0]!.probability)).toBeLessThan(0.1);
  });

  it('classifies a pasted image and a dropped image', async () => {
    const bytes = [...(await import('node:fs')).readFileSync(resolve(FIXTURES, 'hot_dog.jpg'))];
    for (const event of ['paste', 'drop'] as const) {
      const name = `${event}d.jpg`;
      await page.evaluate(
        ({ bytes, event, name }) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/jpeg' }));
          const init = { bubbles: true, cancelable: true };
          document.body.dispatchEvent(
            event === 'paste'
              ? new ClipboardEvent('paste', { ...init, clipboardData: transfer })
              : new DragEvent('drop', { ...init, dataTransfer: transfer }),
          );
        },
        { bytes, event, name },
      );
      expect((await shownPredictions(page, name))[0]!.index).toBe(EXPECTED_TOP1['hot_dog.jpg']);
    }
  });
});

describe('an image chosen before the model is ready', () => {
  it('waits for the model instead of failing', async () => {
    const { page, close } = await openPage(baseUrl);
    try {
      await page.getByTestId('image-input').waitFor({ state: 'attached' });
      expect(await page.getByTestId('model-status').getAttribute('data-state')).not.toBe('ready');
      await classify(page, [resolve(FIXTURES, 'parrot.jpg')]);
      expect((await shownPredictions(page, 'parrot.jpg'))[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
    } finally {
      await close();
    }
  });
});

describe('"not sure" below a minimum confidence', () => {
  it('says "not sure" first below ?minConfidence=, keeps the guesses, and follows the setting', async () => {
    const { page, close } = await openPage(`${baseUrl}?minConfidence=0.999999`);
    try {
      await waitReady(page);
      await classify(page, [resolve(FIXTURES, 'cat.png')]);
      const shown = await shownPredictions(page, 'cat.png');
      expect(shown).toHaveLength(5);
      const list = page.locator('[data-testid="predictions"][data-image-name="cat.png"]');
      expect(await list.getAttribute('data-sure')).toBe('false');
      expect(await page.getByTestId('not-sure').innerText()).toMatch(/Not sure/);
      expect(await page.getByTestId('min-confidence').inputValue()).toBe('100');
      await page.getByTestId('min-confidence').fill('1');
      await page.getByTestId('min-confidence').dispatchEvent('change');
      await expect.poll(() => list.getAttribute('data-sure')).toBe('true');
      expect(await page.getByTestId('not-sure').count()).toBe(0);
    } finally {
      await close();
    }
  });
});
