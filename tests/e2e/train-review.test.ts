import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { labelledVariants } from '../../harness/labelled-photos';
import { classify, FIXTURES, shownPredictions, waitReady } from './app';

const baseUrl = inject('baseUrl');
const dir = mkdtempSync(join(tmpdir(), 'glimpse-review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `<root>/<class>/<file>` on disk, as a user keeps photos; returns the root. */
function folder(name: string, photos: { label: string; name: string; buffer: Buffer }[]): string {
  const root = join(dir, name);
  for (const photo of photos) {
    mkdirSync(join(root, photo.label), { recursive: true });
    writeFileSync(join(root, photo.label, photo.name), photo.buffer);
  }
  return root;
}

const counts = (page: Page) =>
  page
    .getByTestId('train-class')
    .evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-count')]));
const reviewItems = (page: Page) =>
  page.getByTestId('review-item').evaluateAll((els) =>
    els.map((e) => ({
      file: e.getAttribute('data-file'),
      class: e.getAttribute('data-class'),
      predicted: e.getAttribute('data-predicted'),
    })),
  );

async function trained(page: Page, method?: string): Promise<void> {
  if (method) await page.getByTestId('train-method').selectOption(method);
  await page.getByTestId('train-start').click();
  await expect
    .poll(() => page.getByTestId('train-status').getAttribute('data-state'), { timeout: 240_000 })
    .toBe('done');
}

async function downloaded(page: Page, testid: string): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
  return readFile((await download.path())!);
}

describe('reviewing a trained model and fixing its dataset', () => {
  it(
    'shows the wrong and least sure photos, moves and drops them in place, retrains on the kept features, and exports the curated set',
    { timeout: 300_000 },
    async () => {
      const photos = await labelledVariants(FIXTURES, 10);
      // Two parrots filed as cats: the mistakes a real folder has.
      const strays = (await labelledVariants(FIXTURES, 2, 60))
        .filter((p) => p.label === 'parrot')
        .map((p, i) => ({ ...p, label: 'cat', name: `stray-${i + 1}.png` }));
      const root = folder('curate', [...photos.map((p) => ({ ...p, name: p.name.replace(/^.*__/, '') })), ...strays]);
      const { page, close } = await openPage(`${baseUrl}?view=train`);
      try {
        await waitReady(page);
        await page.getByTestId('train-input').setInputFiles(root);
        await expect
          .poll(() => counts(page))
          .toEqual([
            ['cat', '12'],
            ['hotdog', '10'],
            ['parrot', '10'],
          ]);
        expect(await page.getByTestId('train-photos').getAttribute('data-count')).toBe('32');
        // The same folder chosen again: every photo is an exact copy, left out, and the user is told.
        await page.getByTestId('train-input').setInputFiles(root);
        await expect.poll(() => page.getByTestId('train-duplicates').getAttribute('data-count')).toBe('32');
        expect(await counts(page)).toEqual([
          ['cat', '12'],
          ['hotdog', '10'],
          ['parrot', '10'],
        ]);
        expect(await page.getByTestId('train-photos').getAttribute('data-count')).toBe('32');

        // A trained head: a confusion cell shows its own photos.
        await trained(page, 'head');
        const status = page.getByTestId('train-status');
        expect(await status.getAttribute('data-method')).toBe('head');
        expect(Number(await status.getAttribute('data-features-per-second'))).toBeGreaterThan(0);
        await expect.poll(() => page.getByTestId('train-review').isVisible()).toBe(true);
        const diagonal = page.locator('[data-testid=confusion-cell][data-truth=hotdog][data-predicted=hotdog]');
        const inCell = Number(await diagonal.textContent());
        expect(inCell).toBeGreaterThan(0);
        await diagonal.click();
        await expect.poll(() => reviewItems(page)).toHaveLength(inCell);
        for (const item of await reviewItems(page))
          expect(item).toMatchObject({ class: 'hotdog', predicted: 'hotdog' });
        await page.getByTestId('review-doubtful').click();
        // Every photo is reviewed, training ones too (answered by heads that did not learn them): both strays are offered.
        const sides = await page
          .getByTestId('review-item')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-side')));
        expect(sides).toContain('training');
        const cells = await page.getByTestId('confusion-cell').allTextContents();
        expect(cells.reduce((sum, n) => sum + Number(n), 0)).toBe(32);
        const headWrong = (await reviewItems(page)).filter((i) => i.class !== i.predicted).map((i) => i.file);
        expect(headWrong.filter((f) => f!.startsWith('stray-')).length).toBeGreaterThan(0);
        // The photo list moves a photo too, not only Review.
        await page.locator('[data-testid=train-class][data-label=hotdog]').getByTestId('train-select').check();
        const hotdog = page.getByTestId('train-photo').first();
        const path = await hotdog.getAttribute('data-path');
        await hotdog.getByTestId('train-photo-move').selectOption('cat');
        await expect
          .poll(() => counts(page))
          .toEqual([
            ['cat', '13'],
            ['hotdog', '9'],
            ['parrot', '10'],
          ]);
        await page.locator('[data-testid=train-class][data-label=cat]').getByTestId('train-select').check();
        await page
          .locator(`[data-testid=train-photo][data-path="${path}"]`)
          .getByTestId('train-photo-move')
          .selectOption('hotdog');
        await expect
          .poll(() => counts(page))
          .toEqual([
            ['cat', '12'],
            ['hotdog', '10'],
            ['parrot', '10'],
          ]);

        // Nearest neighbour answers every photo by leave-one-out: both strays come up as wrong, first.
        await trained(page, 'nearest');
        expect(await status.getAttribute('data-method')).toBe('nearest');
        expect(await status.getAttribute('data-features-reused')).toBe('32');
        const wrong = (await reviewItems(page)).filter((i) => i.class !== i.predicted);
        expect(wrong.map((i) => i.file).sort()).toEqual(['stray-1.png', 'stray-2.png']);
        expect(wrong.every((i) => i.class === 'cat' && i.predicted === 'parrot')).toBe(true);
        // One class at a time.
        await page.getByTestId('review-class').selectOption('hotdog');
        await expect.poll(async () => [...new Set((await reviewItems(page)).map((i) => i.class))]).toEqual(['hotdog']);
        await page.getByTestId('review-class').selectOption('');

        // Fixed in place: one moved to its class, one dropped.
        await page
          .locator('[data-testid=review-item][data-file="stray-1.png"]')
          .getByTestId('review-move')
          .selectOption('parrot');
        await page.locator('[data-testid=review-item][data-file="stray-2.png"]').getByTestId('review-drop').click();
        await expect
          .poll(() => counts(page))
          .toEqual([
            ['cat', '10'],
            ['hotdog', '10'],
            ['parrot', '11'],
          ]);
        expect(
          await page.locator('[data-testid=review-item][data-file="stray-1.png"]').getAttribute('data-class'),
        ).toBe('parrot');
        expect(await page.locator('[data-testid=review-item][data-file="stray-2.png"]').count()).toBe(0);

        // Retrain: every feature is known, none is computed, and the moved photo is now answered right.
        await page.getByTestId('train-retrain').click();
        await expect.poll(() => status.getAttribute('data-state'), { timeout: 120_000 }).toBe('done');
        expect(await status.getAttribute('data-features-reused')).toBe('31');
        expect(Number(await status.getAttribute('data-val-accuracy'))).toBe(1);
        expect((await reviewItems(page)).filter((i) => i.class !== i.predicted)).toEqual([]);

        // The curated set, to keep: the CSV and the .zip agree with the lists.
        const rows = (await downloaded(page, 'train-export-csv')).toString('utf8').trim().split('\n');
        expect(rows[0]).toBe('file,class');
        expect(rows).toHaveLength(32);
        expect(rows).toContain('curate/cat/stray-1.png,parrot');
        expect(rows.some((r) => r.includes('stray-2'))).toBe(false);
        const zip = unzipSync(new Uint8Array(await downloaded(page, 'train-export-zip')));
        expect(Object.keys(zip)).toHaveLength(31);
        expect(Object.keys(zip).filter((n) => n.startsWith('parrot/'))).toHaveLength(11);
        expect(Buffer.from(zip['parrot/stray-1.png']!).equals(readFileSync(join(root, 'cat', 'stray-1.png')))).toBe(
          true,
        );
      } finally {
        await close();
      }
    },
  );

  it(
    'resumes after a reload: the features computed before it are read back, not computed again',
    { timeout: 300_000 },
    async () => {
      const photos = (await labelledVariants(FIXTURES, 20, 0, 320)).map((p) => ({
        ...p,
        name: p.name.replace(/^.*__/, ''),
      }));
      // A first run on half the photos (a run that stopped partway keeps what it computed the same way, but
      // where a cancel lands depends on the machine's speed): exactly its features are then on this device.
      const half = folder(
        'resume-half',
        photos.filter((_, i) => i % 2 === 0),
      );
      const root = folder('resume', photos);
      const cancelled = folder(
        'resume-cancelled',
        (await labelledVariants(FIXTURES, 20, 100, 320)).map((p) => ({ ...p, name: p.name.replace(/^.*__/, '') })),
      );
      const { page, close } = await openPage(`${baseUrl}?view=train`);
      try {
        await waitReady(page);
        // Cancel as soon as the progress bar shows: 60 photos cannot all be read by the next click. Other
        // photos than the ones below, so that what it kept does not count there.
        await page.getByTestId('train-input').setInputFiles(cancelled);
        await expect.poll(() => page.getByTestId('train-photos').getAttribute('data-count')).toBe('60');
        await page.getByTestId('train-start').click();
        await page.getByTestId('train-progress').waitFor();
        await page.getByTestId('train-cancel').click();
        await expect.poll(() => page.getByTestId('train-status').getAttribute('data-state')).toBe('error');
        await page.reload();
        await waitReady(page);
        await page.getByTestId('train-input').setInputFiles(half);
        await expect.poll(() => page.getByTestId('train-photos').getAttribute('data-count')).toBe('30');
        await trained(page);
        expect(await page.getByTestId('train-status').getAttribute('data-features-from-disk')).toBe('0');
        await page.reload();
        await waitReady(page);
        await page.getByTestId('train-input').setInputFiles(root);
        await expect.poll(() => page.getByTestId('train-photos').getAttribute('data-count')).toBe('60');
        await trained(page);
        const fromDisk = Number(await page.getByTestId('train-status').getAttribute('data-features-from-disk'));
        console.log(`resumed after a reload: ${fromDisk} of 60 features read back from this device`);
        expect(fromDisk).toBe(30);
      } finally {
        await close();
      }
    },
  );
});

describe('few-shot nearest neighbour', () => {
  it(
    'answers from 5 photos a class without training, says "none of these" far from every class, and deploys like a trained model',
    { timeout: 300_000 },
    async () => {
      const root = folder(
        'few',
        (await labelledVariants(FIXTURES, 5)).map((p) => ({ ...p, name: p.name.replace(/^.*__/, '') })),
      );
      const unseen = await labelledVariants(FIXTURES, 2, 50);
      const { page, close } = await openPage(`${baseUrl}?view=train`);
      try {
        await waitReady(page);
        await page.getByTestId('train-input').setInputFiles(root);
        await expect
          .poll(() => counts(page))
          .toEqual([
            ['cat', '5'],
            ['hotdog', '5'],
            ['parrot', '5'],
          ]);
        // Five photos a class: the automatic method is nearest neighbour.
        expect(await page.getByTestId('train-method').getAttribute('data-resolved')).toBe('nearest');
        await trained(page);
        const status = page.getByTestId('train-status');
        expect(await status.getAttribute('data-method')).toBe('nearest');
        expect(await status.getAttribute('data-epoch')).toBe('0');
        expect(Number(await status.getAttribute('data-val-accuracy'))).toBeGreaterThanOrEqual(0.8);
        // The view says what "none of these" means, and what it cannot promise.
        expect(await page.getByTestId('train-none-means').innerText()).toMatch(
          /“none of these” is the answer for a photo less like every class’s photos/,
        );
        await page.getByTestId('train-use').click();
        await expect
          .poll(() => page.getByTestId('model-status').getAttribute('data-model'))
          .toBe('nearest: cat, hotdog, parrot');
        await page.getByTestId('view-classify').click();
        await classify(page, [
          ...unseen.map((i) => ({ name: i.name, mimeType: 'image/png', buffer: i.buffer })),
          { name: 'dragonfly.png', mimeType: 'image/png', buffer: readFileSync(join(FIXTURES, 'dragonfly.png')) },
        ]);
        const right = await Promise.all(
          unseen.map(async (i) => (await shownPredictions(page, i.name))[0]!.label === i.label),
        );
        expect(right.filter(Boolean).length).toBeGreaterThanOrEqual(5);
        const elsewhere = await shownPredictions(page, 'dragonfly.png');
        console.log(
          `a dragonfly, against cat, hotdog and parrot: ${elsewhere.map((p) => `${p.label} ${p.probability.toFixed(3)}`).join(', ')}`,
        );
        expect(elsewhere[0]!.label).toBe('none of these');
      } finally {
        await close();
      }
    },
  );
});
