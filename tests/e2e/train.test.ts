import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { unzipSync } from 'fflate';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, installed, shownPredictions, waitReady } from './app';
import { labelledVariants } from '../helpers/labelled-photos';

const baseUrl = inject('baseUrl');
const dir = mkdtempSync(join(tmpdir(), 'glimpse-train-'));

describe('training your own classifier in the browser', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains on labelled photos, reports validation metrics, and the model it makes classifies new photos, offline too', { timeout: 300_000 }, async () => {
    const images = await labelledVariants(FIXTURES, 10);
    const unseen = await labelledVariants(FIXTURES, 2, 50);
    const { page, context, close } = await openPage(`${baseUrl}?view=train`, {
      init: (p) =>
        p.addInitScript(() => {
          const w = window as unknown as { longTasks: number[] };
          w.longTasks = [];
          new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({ type: 'longtask' });
        }),
    });
    try {
      await waitReady(page);
      await installed(page);
      // A folder per class, as a user keeps them: <root>/<class>/<file>.
      const root = join(dir, 'photos');
      for (const image of images) {
        mkdirSync(join(root, image.label), { recursive: true });
        writeFileSync(join(root, image.label, image.name.replace(/^.*__/, '')), image.buffer);
      }
      await page.getByTestId('train-input').setInputFiles(root);
      await expect.poll(() => page.getByTestId('train-class').evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-count')]))).toEqual([
        ['cat', '10'],
        ['hotdog', '10'],
        ['parrot', '10'],
      ]);
      expect(await page.getByTestId('train-status').getAttribute('data-state')).toBe('idle');
      const started = Date.now();
      await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks.length = 0));
      await page.getByTestId('train-start').click();
      const status = page.getByTestId('train-status');
      await expect.poll(() => status.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
      const valAccuracy = Number(await status.getAttribute('data-val-accuracy'));
      const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
      console.log(`browser training: ${Date.now() - started} ms for 30 images (features and ${await status.getAttribute('data-epoch')} epochs), validation accuracy ${valAccuracy}; main-thread tasks over 50 ms meanwhile: ${longTasks.filter((d) => d > 50).length}`);
      expect(valAccuracy).toBeGreaterThanOrEqual(0.8);
      // npm run train on the same folder: the same split, the same figure within 0.05.
      const cli = spawnSync('npx', ['tsx', 'tools/train.ts', '--images', root, '--out', join(dir, 'cli-model')], { cwd: resolve(import.meta.dirname, '../..'), encoding: 'utf8' });
      expect(cli.status, cli.stderr).toBe(0);
      const cliAccuracy = Number(/validation accuracy ([\d.]+)/.exec(cli.stdout)![1]);
      console.log(`npm run train on the same folder: validation accuracy ${cliAccuracy}`);
      expect(Math.abs(cliAccuracy - valAccuracy)).toBeLessThanOrEqual(0.05);
      expect(Number(await status.getAttribute('data-epoch'))).toBeGreaterThan(0);
      expect(await page.getByTestId('train-metrics').locator('tbody tr').count()).toBe(3);

      const downloadZip = async (storage: string) => {
        await page.getByTestId('train-head-storage').selectOption(storage);
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('train-download').click()]);
        return new Uint8Array(await readFile((await download.path())!));
      };
      const [float32, float16, uint8] = [await downloadZip('float32'), await downloadZip('float16'), await downloadZip('uint8')];
      const head = (zip: Uint8Array) => unzipSync(zip)['weights.bin']!.byteLength;
      console.log(`exported .zip: ${float32.byteLength} bytes with a float32 head, ${float16.byteLength} with float16, ${uint8.byteLength} with uint8 (weights.bin ${head(float32)} / ${head(float16)} / ${head(uint8)})`);
      expect(head(float16)).toBeLessThan(head(float32));
      expect(head(uint8)).toBeLessThan(head(float16));
      const zip = unzipSync(float32);
      expect(Object.keys(zip).sort()).toEqual(['LICENSE', 'labels.json', 'metadata.json', 'model.json', 'weights.bin']);
      const metadata = JSON.parse(new TextDecoder().decode(zip['metadata.json']));
      expect(metadata.training.validation.top1).toBe(valAccuracy);

      // With mirror images as well (training set only), it trains again and stays as good.
      await page.getByText('Advanced').click();
      await page.getByTestId('train-augment').check();
      await page.getByTestId('train-start').click();
      await expect.poll(() => status.textContent()).toMatch(/48 images trained on, 6 held out/);
      expect(Number(await status.getAttribute('data-val-accuracy'))).toBeGreaterThanOrEqual(0.8);

      await page.getByTestId('train-use').click();
      await expect.poll(() => page.getByTestId('model-status').getAttribute('data-model')).toBe('trained: cat, hotdog, parrot');
      await page.getByTestId('view-classify').click();
      await classify(page, unseen.map((i) => ({ name: i.name, mimeType: 'image/png', buffer: i.buffer })));
      const right = await Promise.all(unseen.map(async (i) => (await shownPredictions(page, i.name))[0]!.label === i.label));
      expect(right.filter(Boolean).length).toBeGreaterThanOrEqual(5);

      await context.setOffline(true);
      await page.reload();
      await waitReady(page);
      expect(await page.getByTestId('model-status').getAttribute('data-model')).toBe('trained: cat, hotdog, parrot');
      await page.getByTestId('view-classify').click();
      await classify(page, [{ name: unseen[0]!.name, mimeType: 'image/png', buffer: unseen[0]!.buffer }]);
      expect((await shownPredictions(page, unseen[0]!.name))[0]!.label).toBe(unseen[0]!.label);
    } finally {
      await close();
    }
  });
});
