import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { FIXTURES, waitReady } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';
import { teachableMachineExport, TM_NAME } from '../helpers/teachable-machine';

/** A folder per class, named by label text, holding the fixture photos given for it (copies: directory upload skips symlinks). */
function folderOf(name: string, photos: [file: string, label: string, as?: string][]): string {
  const root = join(mkdtempSync(join(tmpdir(), 'glimpse-evalset-')), name);
  for (const [file, label, as] of photos) {
    mkdirSync(join(root, label), { recursive: true });
    copyFileSync(resolve(FIXTURES, file), join(root, label, as ?? file));
  }
  return root;
}

/** Each photo under its class, plus one photo filed under the wrong class. */
const labelledFolder = () =>
  folderOf('my-set', [
    ['parrot.jpg', 'macaw'],
    ['hot_dog.jpg', 'hotdog'],
    ['cat.png', 'Egyptian cat'],
    ['dragonfly.png', 'dragonfly'],
    ['bird.png', 'chickadee'],
    ['cat.png', 'dragonfly', 'not-a-dragonfly.png'],
  ]);

/** Each photo filed under another class the model knows: it answers them confidently, and always wrong. */
const mislabelledFolder = () =>
  folderOf('mislabelled', [
    ['parrot.jpg', 'hotdog'],
    ['hot_dog.jpg', 'macaw'],
    ['cat.png', 'dragonfly'],
    ['dragonfly.png', 'chickadee'],
    ['bird.png', 'Egyptian cat'],
    ['parrot.jpg', 'dragonfly', 'a-parrot.jpg'],
  ]);

describe('Evaluate view', () => {
  it('scores a folder-per-class set in the browser with the CLI metrics, shows the confusion, and exports JSON', async () => {
    const { page, close } = await openPage(`${inject('baseUrl')}?view=evaluate`);
    try {
      await waitReady(page);
      await page.getByTestId('eval-folder').setInputFiles(labelledFolder());
      const summary = page.getByTestId('eval-summary');
      await summary.waitFor({ timeout: 60_000 });
      expect(await summary.getAttribute('data-n')).toBe('6');
      expect(Number(await summary.getAttribute('data-top1'))).toBeCloseTo(5 / 6);
      expect(await page.getByTestId('eval-heatmap').isVisible()).toBe(true);
      expect(await page.getByTestId('eval-confused').innerText()).toMatch(/^dragonfly, .* → Egyptian cat: 1$/m);
      // dragonfly: 1 of 2 right; Egyptian cat: predicted twice, right once.
      expect(
        await page
          .locator(`[data-testid="eval-classes"] tr[data-index="${EXPECTED_TOP1['dragonfly.png']}"]`)
          .innerText(),
      ).toMatch(/100\.0%\s+50\.0%\s+66\.7%\s+2/);

      const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('eval-export-json').click()]);
      const report = JSON.parse(readFileSync(await json.path(), 'utf8'));
      expect(Object.keys(report).sort()).toEqual([
        'confusion',
        'macro',
        'msPerImage',
        'n',
        'perClass',
        'top1',
        'top5',
        'weighted',
      ]);
      expect(report.confusion[EXPECTED_TOP1['dragonfly.png']!][EXPECTED_TOP1['cat.png']!]).toBe(1);
    } finally {
      await close();
    }
  });
});

describe('Evaluate view: how far to trust the confidence', () => {
  it(
    'shows the reliability diagram, the ECE and the accuracy–coverage curve, and calibrates the model for good',
    { timeout: 240_000 },
    async () => {
      const { page, close } = await openPage(`${inject('baseUrl')}?view=evaluate`);
      try {
        await waitReady(page);
        await page.getByTestId('eval-folder').setInputFiles(labelledFolder());
        const reliability = page.getByTestId('reliability');
        await reliability.waitFor({ timeout: 60_000 });
        const ece = Number(await reliability.getAttribute('data-ece'));
        expect(ece).toBeGreaterThanOrEqual(0);
        expect(ece).toBeLessThanOrEqual(1);
        const bins = await page
          .getByTestId('reliability-bin')
          .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-count'))));
        expect(bins.reduce((a, b) => a + b, 0)).toBe(6);
        // At a threshold of 0 every photo is answered, at the top-1 accuracy (5 of 6).
        await page.getByTestId('coverage-threshold').fill('0');
        const coverage = page.getByTestId('coverage');
        await expect.poll(() => coverage.getAttribute('data-coverage')).toBe('1');
        expect(Number(await coverage.getAttribute('data-accuracy'))).toBeCloseTo(5 / 6);
        await page.getByTestId('coverage-threshold').fill('1');
        await expect.poll(async () => Number(await coverage.getAttribute('data-coverage'))).toBeLessThan(1);

        // Five of six right and sure: a temperature fitted on half of them (the wrong one among them)
        // only makes the other, right half less sure. It is reported, and the model left as it was.
        await page.getByTestId('calibrate').click();
        const result = page.getByTestId('calibration-result');
        await result.waitFor({ timeout: 60_000 });
        console.log(
          `calibration on the labelled set: ECE on the held-out half ${await result.getAttribute('data-ece-before')} → ${await result.getAttribute('data-ece-after')} at t = ${await result.getAttribute('data-temperature')}`,
        );
        expect(await result.getAttribute('data-kept')).toBe('false');
        expect(Number(await result.getAttribute('data-ece-after'))).toBeGreaterThanOrEqual(
          Number(await result.getAttribute('data-ece-before')),
        );
        expect(await result.innerText()).toMatch(/did not help: on the other 3, .* The model was left as it was\./);
        expect(await page.getByTestId('reliability').innerText()).toContain('Temperature now: 1.000');
        expect(await page.getByTestId('uncalibrate').count()).toBe(0);

        // Photos the model answers surely and wrongly, in both halves: a fitted temperature lowers the held-out error, and is kept.
        await page.getByTestId('eval-folder').setInputFiles(mislabelledFolder());
        await expect
          .poll(() => page.getByTestId('eval-summary').getAttribute('data-top1'), { timeout: 60_000 })
          .toBe('0');
        await page.getByTestId('calibrate').click();
        await expect.poll(() => result.getAttribute('data-kept'), { timeout: 60_000 }).toBe('true');
        const temperature = Number(await result.getAttribute('data-temperature'));
        expect(temperature).toBeGreaterThanOrEqual(0.1);
        expect(temperature).toBeLessThanOrEqual(10);
        expect(temperature).not.toBeCloseTo(1, 3);
        expect(Number(await result.getAttribute('data-ece-after'))).toBeLessThan(
          Number(await result.getAttribute('data-ece-before')),
        );
        expect(await result.innerText()).toMatch(/fitted on 3 photos; on the other 3/);

        // Kept with the model: after a reload the worker still answers at that temperature.
        await page.reload();
        await waitReady(page);
        await page.getByTestId('eval-folder').setInputFiles(mislabelledFolder());
        await page.getByTestId('reliability').waitFor({ timeout: 60_000 });
        expect(await page.getByTestId('reliability').innerText()).toContain(
          `Temperature now: ${temperature.toFixed(3)}`,
        );
        await page.getByTestId('uncalibrate').click();
        await expect.poll(() => page.getByTestId('reliability').innerText()).toContain('Temperature now: 1.000');
      } finally {
        await close();
      }
    },
  );
});

describe('Evaluate view, drag and drop', () => {
  it('scores labelled files dropped on it (<wnid>_<name>, matched by name)', async () => {
    const { page, close } = await openPage(`${inject('baseUrl')}?view=evaluate`);
    try {
      await waitReady(page);
      const files = [
        ['n01818515_macaw.jpg', [...readFileSync(resolve(FIXTURES, 'parrot.jpg'))]],
        ['n07697537_hotdog.jpg', [...readFileSync(resolve(FIXTURES, 'hot_dog.jpg'))]],
      ] as const;
      await page.getByTestId('eval-drop').evaluate((zone, files) => {
        const transfer = new DataTransfer();
        for (const [name, bytes] of files)
          transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/jpeg' }));
        zone.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }));
      }, files);
      const summary = page.getByTestId('eval-summary');
      await summary.waitFor({ timeout: 60_000 });
      expect(await summary.getAttribute('data-n')).toBe('2');
      expect(await summary.getAttribute('data-top1')).toBe('1');
      // The drop went to the evaluation, not to the classifier's results.
      expect(await page.getByTestId('predictions').count()).toBe(0);
    } finally {
      await close();
    }
  });

  it(
    'says a model of 45,000 classes is too large to evaluate, instead of building its classes² matrix and crashing the tab',
    { timeout: 240_000 },
    async () => {
      const labels = Array.from({ length: 45_000 }, (_, i) => `class ${i}`);
      const files = (await teachableMachineExport(16, labels)).map((f) => ({
        name: f.name,
        mimeType: 'application/octet-stream',
        buffer: Buffer.from(f.bytes),
      }));
      const { page, close } = await openPage(`${inject('baseUrl')}?view=models`);
      try {
        await waitReady(page);
        await page.getByTestId('model-import').setInputFiles(files);
        await expect
          .poll(() => page.getByTestId('model-status').getAttribute('data-model'), { timeout: 120_000 })
          .toBe(TM_NAME);
        await page.getByTestId('view-evaluate').click();
        await page.getByTestId('eval-folder').setInputFiles(labelledFolder());
        await expect
          .poll(() => page.getByTestId('eval-refused').innerText())
          .toMatch(/45000 classes; the Evaluate view scores models of up to 4096/);
        expect(await page.getByTestId('eval-summary').count()).toBe(0);
        // The page still answers.
        expect(await page.evaluate(() => 1 + 1)).toBe(2);
      } finally {
        await close();
      }
    },
  );
});
