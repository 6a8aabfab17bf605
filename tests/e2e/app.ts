import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, type BrowserOptions } from '../../harness/browser';
import { EXPECTED_TOP1 } from '../helpers/model';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures');
/** Where the automatic choice lands without a GPU: wasm at first, LiteRT once measured clearly faster. */
export const NO_GPU_BACKENDS = ['wasm', 'litert'];
export const LABELS: string[] = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../public/model/labels.json'), 'utf8'),
);

/** Waits until the model status reports ready and returns the backend it names. */
export async function waitReady(page: Page, timeout = 120_000): Promise<string> {
  const status = page.locator('[data-testid="model-status"][data-state="ready"]');
  await status.waitFor({ timeout });
  return (await status.getAttribute('data-backend')) ?? '';
}

export interface ShownPrediction {
  label: string;
  index: number;
  probability: number;
}

/** Reads the predictions shown for one image, as the contract exposes them. */
export async function shownPredictions(page: Page, imageName: string, timeout = 120_000): Promise<ShownPrediction[]> {
  const list = page.locator(`[data-testid="predictions"][data-image-name="${imageName}"]`);
  await list.waitFor({ timeout });
  return list.getByTestId('prediction').evaluateAll((items) =>
    items.map((li) => ({
      label: li.getAttribute('data-label') ?? '',
      index: Number(li.getAttribute('data-index')),
      probability: Number(li.getAttribute('data-probability')),
    })),
  );
}

export function expectWellFormed(predictions: ShownPrediction[]): void {
  expect(predictions).toHaveLength(5);
  for (const p of predictions) {
    expect(p.label).toBe(LABELS[p.index]);
    expect(p.probability).toBeGreaterThanOrEqual(0);
    expect(p.probability).toBeLessThanOrEqual(1);
  }
  const probabilities = predictions.map((p) => p.probability);
  expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
}

export async function classify(
  page: Page,
  files: { name: string; mimeType: string; buffer: Buffer }[] | string[],
): Promise<void> {
  await page.getByTestId('image-input').setInputFiles(files as never);
}

/** A fresh browser on `url` with the model ready. */
export async function readyPage(
  url: string,
  options: BrowserOptions = {},
): Promise<{ page: Page; close: () => Promise<void> }> {
  const { page, close } = await openPage(url, options);
  await waitReady(page);
  return { page, close };
}

/** Ready, and the automatic choice done measuring (so LiteRT's files, if tried, were fetched). */
export async function waitSettled(page: Page): Promise<void> {
  await page
    .locator('[data-testid="model-status"][data-state="ready"]:not([data-reason="measuring"])')
    .waitFor({ timeout: 120_000 });
}

/** Ready, settled, controlled by the service worker, and everything precached. */
export async function installed(page: Page): Promise<void> {
  await waitSettled(page);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect
    .poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 30_000 })
    .toBe(true);
  await page.getByTestId('storage-panel').locator('summary').click();
  await expect
    .poll(() => page.getByTestId('storage-panel').innerText(), { timeout: 60_000 })
    .toMatch(/works without a network/);
}

/** Records every main-thread long task of the page from its first script on (read with `longTasks`). */
export async function observeLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push(entry.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** The durations of the long tasks seen so far; `clear` starts counting afresh. */
export function longTasks(page: Page, clear = false): Promise<number[]> {
  return page.evaluate((clear) => {
    const w = window as unknown as { longTasks: number[] };
    const seen = w.longTasks;
    if (clear) w.longTasks = [];
    return seen;
  }, clear);
}

/** Classifies the parrot fixture in the Classify view and checks its top answer: the expected ImageNet class, by the built-in model's label. */
export async function expectParrotNamed(page: Page): Promise<void> {
  await page.getByTestId('view-classify').click();
  await classify(page, [resolve(FIXTURES, 'parrot.jpg')]);
  const top = (await shownPredictions(page, 'parrot.jpg'))[0]!;
  expect([top.index, top.label]).toEqual([EXPECTED_TOP1['parrot.jpg'], LABELS[EXPECTED_TOP1['parrot.jpg']!]]);
}
