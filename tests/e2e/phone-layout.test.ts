import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { photoToY4m } from '../../harness/fake-camera';
import { labelledVariants } from '../../harness/labelled-photos';
import { classify, FIXTURES, waitReady } from './app';

const baseUrl = inject('baseUrl');
const dir = mkdtempSync(join(tmpdir(), 'glimpse-phone-'));
/** Screenshots to look at: GLIMPSE_SCREENSHOTS=folder keeps them; otherwise they go with the temporary folder. */
const shots = process.env.GLIMPSE_SCREENSHOTS ?? join(dir, 'shots');
const PHONE = { width: 360, height: 740 };
const PHOTOS = ['parrot.jpg', 'hot_dog.jpg', 'cat.png', 'dragonfly.png', 'bird.png'];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * How wide the page is, and the innermost elements that reach past the viewport's right edge (those
 * none of whose children do: the cause, not the boxes it widens). A box marked `data-scroll-x` scrolls
 * sideways inside itself on purpose (a wide table) and is not counted.
 */
const overflow = (page: Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const past = (el: Element) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.right > width + 0.5 && el.closest('[data-scroll-x]') === null;
    };
    const name = (el: HTMLElement) =>
      `${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''}.${el.className} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
    const causes = [...document.querySelectorAll<HTMLElement>('body *')].filter(
      (el) => past(el) && ![...el.children].some(past),
    );
    return {
      scrollWidth: document.documentElement.scrollWidth,
      width,
      widest: causes.slice(0, 3).map(name).join(' | '),
    };
  });

async function fitsAndShoot(page: Page, name: string, locale: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}-${locale}.png`), fullPage: true });
  const { scrollWidth, width, widest } = await overflow(page);
  expect
    .soft(scrollWidth, `${name} (${locale}) is ${scrollWidth} px wide at ${width} px: ${widest}`)
    .toBeLessThanOrEqual(width);
  expect.soft(widest, `${name} (${locale}): ${widest} reaches past the edge`).toBe('');
}

/** Words each language's charts must show: axis titles, series names, and the tables' summary. */
const CHART_WORDS: Record<string, { evaluate: RegExp[]; train: RegExp[] }> = {
  en: {
    evaluate: [/Confidence of the answer \(%\)/, /Accuracy \(%\)/, /Photos answered \(%\)/, /Perfect calibration/],
    train: [/Epoch/, /training/, /validation/],
  },
  'zh-CN': {
    evaluate: [/回答的置信度（%）/, /准确率（%）/, /作答的图片（%）/, /完美校准/],
    train: [/轮次/, /训练/, /验证/],
  },
};

/**
 * Every chart on the view has its axes' titles and ticks, a legend naming its series (never uPlot's
 * "--" placeholder), text in the page's language, and its figures as a table.
 */
async function chartsSpeak(page: Page, locale: string): Promise<void> {
  const training = (await page.getByTestId('training-chart').count()) > 0;
  const charts = page
    .getByTestId(training ? 'training-chart' : 'reliability')
    .locator('..')
    .locator(training ? '[data-testid=training-chart]' : 'figure');
  expect(await charts.count()).toBe(2);
  const text = (await charts.evaluateAll((els) => els.map((e) => e.textContent ?? ''))).join(' ');
  for (const word of CHART_WORDS[locale]![training ? 'train' : 'evaluate']) expect(text).toMatch(word);
  for (const chart of await charts.all()) {
    const entries = chart.locator(training ? '.u-legend .u-series' : '[data-testid=chart-legend] li');
    const names = (await entries.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
    expect(names).toHaveLength(2);
    expect(names.join(' ')).not.toMatch(/--/);
    expect(await chart.locator('details table tbody tr').count()).toBeGreaterThan(0);
    if (!training)
      expect(await chart.getByTestId('chart-tick-y').allTextContents()).toEqual(['0%', '25%', '50%', '75%', '100%']);
  }
}

/** A folder per class, named by label, for the Evaluate view. */
function evalFolder(): string {
  const labels: Record<string, string> = {
    'parrot.jpg': 'macaw',
    'hot_dog.jpg': 'hotdog',
    'cat.png': 'Egyptian cat',
    'dragonfly.png': 'dragonfly',
    'bird.png': 'chickadee',
  };
  const root = join(dir, 'eval-set');
  for (const [file, label] of Object.entries(labels)) {
    mkdirSync(join(root, label), { recursive: true });
    copyFileSync(resolve(FIXTURES, file), join(root, label, file));
  }
  return root;
}

async function trainFolder(): Promise<string> {
  const root = join(dir, 'train-set');
  for (const image of await labelledVariants(FIXTURES, 6, 0, 96)) {
    mkdirSync(join(root, image.label), { recursive: true });
    writeFileSync(join(root, image.label, image.name.replace(/^.*__/, '')), image.buffer);
  }
  return root;
}

describe('on a phone (360 × 740)', () => {
  for (const locale of ['en', 'zh-CN']) {
    it(`every view fits the screen's width with its results shown (${locale})`, { timeout: 400_000 }, async () => {
      const video = join(dir, 'parrot.y4m');
      await photoToY4m(resolve(FIXTURES, 'parrot.jpg'), video);
      const { page, close } = await openPage(baseUrl, {
        viewport: PHONE,
        locale,
        extraArgs: [
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-video-capture=${video}`,
        ],
      });
      try {
        await waitReady(page);
        await fitsAndShoot(page, 'start', locale);

        await classify(
          page,
          PHOTOS.map((p) => resolve(FIXTURES, p)),
        );
        await expect.poll(() => page.getByTestId('predictions').count(), { timeout: 120_000 }).toBe(PHOTOS.length);
        await fitsAndShoot(page, 'classify', locale);
        // A long label shows its first name; the rest is one tap away.
        const long = page.locator('[data-testid="prediction"][data-label*=","]').first();
        await long.waitFor();
        const full = (await long.getAttribute('data-label'))!;
        const name = long.getByTestId('prediction-label');
        expect(await name.innerText()).toBe(full.split(',')[0]!.trim());
        await name.click();
        await expect.poll(() => name.innerText()).toBe(full);

        await page.getByTestId('view-evaluate').click();
        await page.getByTestId('eval-folder').setInputFiles(evalFolder());
        await page.getByTestId('reliability').waitFor({ timeout: 120_000 });
        await fitsAndShoot(page, 'evaluate', locale);
        await chartsSpeak(page, locale);

        await page.getByTestId('view-train').click();
        await page.getByTestId('train-input').setInputFiles(await trainFolder());
        await expect.poll(() => page.getByTestId('train-class').count()).toBe(3);
        // A trained head, so that its loss and accuracy curves are drawn.
        await page.getByTestId('train-method').selectOption('head');
        await page.getByTestId('train-start').click();
        await expect
          .poll(() => page.getByTestId('train-status').getAttribute('data-state'), { timeout: 240_000 })
          .toBe('done');
        await page.getByTestId('train-review').waitFor();
        await fitsAndShoot(page, 'train', locale);
        await chartsSpeak(page, locale);

        await page.getByTestId('view-models').click();
        await page.getByTestId('model-drop').waitFor();
        await fitsAndShoot(page, 'models', locale);

        await page.getByTestId('view-camera').click();
        await page.getByTestId('camera-start').click();
        await page.getByTestId('camera-predictions').getByTestId('prediction').first().waitFor({ timeout: 120_000 });
        await fitsAndShoot(page, 'camera', locale);
      } finally {
        await close();
      }
    });
  }
});
