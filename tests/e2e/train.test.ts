import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { unzipSync } from 'fflate';
import { openPage } from '../../harness/browser';
import { photoToY4m } from '../../harness/fake-camera';
import { classify, FIXTURES, installed, shownPredictions, waitReady } from './app';
import { labelledVariants } from '../../harness/labelled-photos';

const baseUrl = inject('baseUrl');
const dir = mkdtempSync(join(tmpdir(), 'glimpse-train-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training your own classifier in the browser', () => {
  it(
    'trains on labelled photos, reports validation metrics, and the model it makes classifies new photos, offline too',
    { timeout: 300_000 },
    async () => {
      const images = await labelledVariants(FIXTURES, 10);
      const unseen = await labelledVariants(FIXTURES, 2, 50);
      const { page, context, close } = await openPage(`${baseUrl}?view=train`, {
        init: (p) =>
          p.addInitScript(() => {
            const w = window as unknown as { longTasks: number[] };
            w.longTasks = [];
            new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({
              type: 'longtask',
            });
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
        await expect
          .poll(() =>
            page
              .getByTestId('train-class')
              .evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-count')])),
          )
          .toEqual([
            ['cat', '10'],
            ['hotdog', '10'],
            ['parrot', '10'],
          ]);
        expect(await page.getByTestId('train-status').getAttribute('data-state')).toBe('idle');
        // Features kept on this device too, so that a later visit trains without recomputing them.
        await page.getByText('Advanced').click();
        await page.getByTestId('train-keep-features').check();
        const started = Date.now();
        await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks.length = 0));
        await page.getByTestId('train-start').click();
        const status = page.getByTestId('train-status');
        await expect.poll(() => status.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
        const valAccuracy = Number(await status.getAttribute('data-val-accuracy'));
        const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
        console.log(
          `browser training: ${Date.now() - started} ms for 30 images (features and ${await status.getAttribute('data-epoch')} epochs), validation accuracy ${valAccuracy}; main-thread tasks over 50 ms meanwhile: ${longTasks.filter((d) => d > 50).length}`,
        );
        expect(valAccuracy).toBeGreaterThanOrEqual(0.8);
        // npm run train on the same folder: the same split, the same figure within 0.05.
        const cli = spawnSync('npx', ['tsx', 'tools/train.ts', '--images', root, '--out', join(dir, 'cli-model')], {
          cwd: resolve(import.meta.dirname, '../..'),
          encoding: 'utf8',
        });
        expect(cli.status, cli.stderr).toBe(0);
        const cliAccuracy = Number(/validation accuracy ([\d.]+)/.exec(cli.stdout)![1]);
        console.log(`npm run train on the same folder: validation accuracy ${cliAccuracy}`);
        expect(Math.abs(cliAccuracy - valAccuracy)).toBeLessThanOrEqual(0.05);
        expect(Number(await status.getAttribute('data-epoch'))).toBeGreaterThan(0);
        expect(await page.getByTestId('train-metrics').locator('tbody tr').count()).toBe(3);

        const downloadZip = async (storage: string) => {
          await page.getByTestId('train-head-storage').selectOption(storage);
          const [download] = await Promise.all([
            page.waitForEvent('download'),
            page.getByTestId('train-download').click(),
          ]);
          return new Uint8Array(await readFile((await download.path())!));
        };
        const [float32, float16, uint8] = [
          await downloadZip('float32'),
          await downloadZip('float16'),
          await downloadZip('uint8'),
        ];
        const head = (zip: Uint8Array) => unzipSync(zip)['weights.bin']!.byteLength;
        console.log(
          `exported .zip: ${float32.byteLength} bytes with a float32 head, ${float16.byteLength} with float16, ${uint8.byteLength} with uint8 (weights.bin ${head(float32)} / ${head(float16)} / ${head(uint8)})`,
        );
        expect(head(float16)).toBeLessThan(head(float32));
        expect(head(uint8)).toBeLessThan(head(float16));
        const zip = unzipSync(float32);
        expect(Object.keys(zip).sort()).toEqual([
          'LICENSE',
          'labels.json',
          'metadata.json',
          'model.json',
          'weights.bin',
        ]);
        const metadata = JSON.parse(new TextDecoder().decode(zip['metadata.json']));
        expect(metadata.training.validation.top1).toBe(valAccuracy);

        // With mirror images and random crops as well (training set only), it trains again and stays
        // as good; the 30 photos' own features are reused, only the 48 new views are computed.
        await page.getByTestId('train-augment').check();
        await page.getByTestId('train-crop-jitter').check();
        await page.getByTestId('train-start').click();
        await expect.poll(() => status.textContent()).toMatch(/72 images trained on, 6 held out/);
        expect(Number(await status.getAttribute('data-val-accuracy'))).toBeGreaterThanOrEqual(0.8);
        expect(await status.getAttribute('data-features-reused')).toBe('30');

        await page.getByTestId('train-use').click();
        await expect
          .poll(() => page.getByTestId('model-status').getAttribute('data-model'))
          .toBe('trained: cat, hotdog, parrot');
        await page.getByTestId('view-classify').click();
        await classify(
          page,
          unseen.map((i) => ({ name: i.name, mimeType: 'image/png', buffer: i.buffer })),
        );
        const right = await Promise.all(
          unseen.map(async (i) => (await shownPredictions(page, i.name))[0]!.label === i.label),
        );
        expect(right.filter(Boolean).length).toBeGreaterThanOrEqual(5);

        await context.setOffline(true);
        await page.reload();
        await waitReady(page);
        expect(await page.getByTestId('model-status').getAttribute('data-model')).toBe('trained: cat, hotdog, parrot');
        await page.getByTestId('view-classify').click();
        await classify(page, [{ name: unseen[0]!.name, mimeType: 'image/png', buffer: unseen[0]!.buffer }]);
        expect((await shownPredictions(page, unseen[0]!.name))[0]!.label).toBe(unseen[0]!.label);

        // A new visit (offline still) trains on the same folder from the features kept on this device.
        await page.getByTestId('view-train').click();
        await page.getByTestId('train-input').setInputFiles(root);
        await expect.poll(() => page.getByTestId('train-class').count()).toBe(3);
        await page.getByTestId('train-start').click();
        await expect.poll(() => status.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
        expect(await status.getAttribute('data-features-from-disk')).toBe('30');
        await page.getByText('Advanced').click();
        await page.getByTestId('train-forget-features').click();
        await page.getByTestId('train-start').click();
        await expect.poll(() => status.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
        expect(await status.getAttribute('data-features-reused')).toBe('0');
      } finally {
        await close();
      }
    },
  );
});

describe('classes made by hand in the Train view', () => {
  const video = join(dir, 'parrot.y4m');
  beforeAll(() => photoToY4m(resolve(FIXTURES, 'parrot.jpg'), video));

  it(
    'takes images from the camera and from the clipboard, into the class being named or the one selected, and trains on them',
    { timeout: 300_000 },
    async () => {
      const photos = await labelledVariants(FIXTURES, 10);
      const { page, close } = await openPage(`${baseUrl}?view=train`, {
        extraArgs: [
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-video-capture=${video}`,
        ],
      });
      /** Pastes files as a user does with Ctrl+V: a paste event whose clipboard holds them. */
      const paste = (files: { name: string; buffer: Buffer }[]) =>
        page.evaluate(
          (items) => {
            const data = new DataTransfer();
            for (const item of items)
              data.items.add(
                new File([Uint8Array.from(atob(item.base64), (c) => c.charCodeAt(0))], item.name, {
                  type: 'image/png',
                }),
              );
            document.body.dispatchEvent(
              new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
            );
          },
          files.map((f) => ({ name: f.name, base64: f.buffer.toString('base64') })),
        );
      const counts = () =>
        page
          .getByTestId('train-class')
          .evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-count')]));
      const of = (label: string) => photos.filter((p) => p.label === label);
      try {
        await waitReady(page);
        // Nowhere to put it yet: the view says so and keeps nothing.
        await paste(of('cat').slice(0, 1));
        await expect.poll(() => page.getByTestId('train-paste-where').isVisible()).toBe(true);
        expect(await page.getByTestId('train-class').count()).toBe(0);

        await page.getByTestId('train-camera').click();
        await expect
          .poll(() => page.getByTestId('train-camera-video').evaluate((v: HTMLVideoElement) => v.videoWidth))
          .toBeGreaterThan(0);
        await page.getByTestId('train-new-class').fill('parrot');
        await page.getByTestId('train-new-class-capture').click();
        await expect.poll(counts).toEqual([['parrot', '1']]);
        for (let i = 0; i < 7; i++) await page.getByTestId('train-capture').click();
        await expect.poll(counts).toEqual([['parrot', '8']]);
        await page.getByTestId('train-camera-stop').click();
        expect(await page.getByTestId('train-camera-video').evaluate((v: HTMLVideoElement) => v.srcObject)).toBeNull();

        await page.getByTestId('train-new-class').fill('cat');
        await paste(of('cat'));
        await expect.poll(counts).toEqual([
          ['cat', '10'],
          ['parrot', '8'],
        ]);
        await page.getByTestId('train-new-class').fill('hotdog');
        await paste(of('hotdog'));
        await expect.poll(counts).toEqual([
          ['cat', '10'],
          ['hotdog', '10'],
          ['parrot', '8'],
        ]);
        // Pasting with no name typed goes to the selected class.
        await page.locator('[data-testid=train-class][data-label=parrot]').getByTestId('train-select').check();
        await paste(of('parrot').slice(0, 4));
        await expect.poll(counts).toEqual([
          ['cat', '10'],
          ['hotdog', '10'],
          ['parrot', '12'],
        ]);

        await page.getByTestId('train-start').click();
        const status = page.getByTestId('train-status');
        await expect.poll(() => status.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
        expect(Number(await status.getAttribute('data-val-accuracy'))).toBeGreaterThanOrEqual(0.8);
      } finally {
        await close();
      }
    },
  );
});
