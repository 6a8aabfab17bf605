import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, shownPredictions, waitReady } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';

/**
 * Issue 33: what this device stores (a temperature per model version in IndexedDB, the minimum
 * confidence in localStorage) is checked as it is read. Another tab, an extension or an old version
 * may have written anything there; none of it may reverse, flatten or NaN the answers.
 */

const baseUrl = inject('baseUrl');
const PARROT = readFileSync(resolve(FIXTURES, 'parrot.jpg'));
let asked = 0;

/** Writes `value` under the built-in model's version in the calibration store, as the worker's idb-keyval store keeps it. */
function storeTemperature(page: Page, version: string, value: unknown): Promise<void> {
  return page.evaluate(
    ([key, stored]) =>
      new Promise<void>((done, fail) => {
        const open = indexedDB.open('glimpse-calibration');
        open.onupgradeneeded = () => open.result.createObjectStore('temperatures');
        open.onsuccess = () => {
          const write = open.result.transaction('temperatures', 'readwrite');
          write.objectStore('temperatures').put(stored, key);
          write.oncomplete = () => (open.result.close(), done());
          write.onerror = () => fail(write.error);
        };
        open.onerror = () => fail(open.error);
      }),
    [version, value] as const,
  );
}

/** The parrot's top answer, under a name of its own each time (each photo keeps its own result list). */
async function answer(page: Page): Promise<{ index: number; probability: number; sure: string | null }> {
  const name = `parrot-${++asked}.jpg`;
  await classify(page, [{ name, mimeType: 'image/jpeg', buffer: PARROT }]);
  const [top] = await shownPredictions(page, name);
  const sure = await page.locator(`[data-testid="predictions"][data-image-name="${name}"]`).getAttribute('data-sure');
  return { index: top!.index, probability: top!.probability, sure };
}

describe('stored settings are checked as they are read', () => {
  it(
    'ignores a stored temperature that is no temperature (-1, 0, NaN, a string, 1e308)',
    { timeout: 240_000 },
    async () => {
      const { version } = (await (await fetch(new URL('model/manifest.json', baseUrl))).json()) as { version: string };
      const { page, close } = await openPage(baseUrl);
      try {
        await waitReady(page);
        const honest = await answer(page);
        expect(honest.index).toBe(EXPECTED_TOP1['parrot.jpg']);
        for (const stored of [-1, 0, Number.NaN, '2', 1e308]) {
          await storeTemperature(page, version, stored);
          await page.reload();
          await waitReady(page);
          const shown = await answer(page);
          expect(shown.index, String(stored)).toBe(EXPECTED_TOP1['parrot.jpg']);
          expect(shown.probability, String(stored)).toBeCloseTo(honest.probability, 2);
        }
      } finally {
        await close();
      }
    },
  );

  it(
    "ignores a stored minimum confidence that is no decimal share ('0x1' would make every answer 'not sure')",
    { timeout: 120_000 },
    async () => {
      const { page, close } = await openPage(baseUrl);
      try {
        await waitReady(page);
        for (const [stored, sure] of [
          ['0x1', 'true'],
          ['1e0', 'true'],
          ['100%', 'false'],
        ] as const) {
          await page.evaluate((value) => localStorage.setItem('glimpse-min-confidence', value), stored);
          await page.reload();
          await waitReady(page);
          expect((await answer(page)).sure, stored).toBe(sure);
        }
      } finally {
        await close();
      }
    },
  );
});
