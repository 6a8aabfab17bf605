import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { prepareImport } from '../../model/model-import';
import { classify, FIXTURES, shownPredictions, waitReady } from '../e2e/app';
import { requireShared, SHARED } from './shared';

/** Real third-party files as their publishers made them: a TFLite with its labels in its metadata, a grey-scale ONNX. */

const baseUrl = inject('baseUrl');
const INAT = resolve(SHARED, 'models/tflite-extra/inat-insect');
const INAT_FILE = 'mobilenet_v2_1.0_224_inat_insect_quant.tflite';
const MNIST = resolve(SHARED, 'models/onnx/mnist/mnist.onnx');
const DIGITS = resolve(FIXTURES, 'digits');
const digitFiles = () =>
  readdirSync(DIGITS).flatMap((d) =>
    readdirSync(resolve(DIGITS, d)).map((f) => ({ digit: d, path: resolve(DIGITS, d, f), name: f })),
  );

describe('a Coral iNaturalist insect classifier (labels only in its TFLite Metadata)', () => {
  it(
    'imports with its species names, on LiteRT where faster, and names the dragonfly',
    { timeout: 300_000 },
    async () => {
      requireShared();
      const prepared = prepareImport([
        { name: INAT_FILE, bytes: new Uint8Array(readFileSync(resolve(INAT, INAT_FILE))) },
      ]);
      const expected = readFileSync(resolve(INAT, 'inat_insect_labels.txt'), 'utf8').split('\n').filter(Boolean);
      expect(prepared.labels).toEqual(expected);
      expect(prepared.numbered).toBeUndefined();
      const { page, close } = await openPage(`${baseUrl}?view=models`);
      try {
        await waitReady(page);
        await page.getByTestId('model-import').setInputFiles(resolve(INAT, INAT_FILE));
        const status = page.getByTestId('model-status');
        await expect
          .poll(() => status.getAttribute('data-model'), { timeout: 120_000 })
          .toBe('mobilenet_v2_1.0_224_inat_insect_quant');
        const item = page.locator('[data-testid="model-item"][data-active="true"]');
        expect(await item.innerText()).toMatch(/1022 classes.*labels from its metadata \(inat_insect_labels\.txt\)/s);
        expect(await item.getByTestId('model-numbered').count()).toBe(0);
        await page.getByTestId('view-classify').click();
        await classify(page, [resolve(FIXTURES, 'dragonfly.png')]);
        const top = (await shownPredictions(page, 'dragonfly.png'))[0]!;
        console.log(
          `iNat insects on ${await status.getAttribute('data-backend')}: dragonfly.png → ${top.label} ${(100 * top.probability).toFixed(1)}%`,
        );
        expect(top.label).not.toMatch(/^class \d+$/);
        expect(expected).toContain(top.label);
        // Coral's own example answers this photo with this species (the Thornbush Dasher, a dragonfly).
        expect(top.label).toBe('Micrathyria hagenii (Thornbush Dasher)');
      } finally {
        await close();
      }
    },
  );
});

describe('the ONNX Model Zoo MNIST (one grey channel, 0–255)', () => {
  it('classifies drawn digits in npm run eval', () => {
    requireShared();
    const run = spawnSync('npx', ['tsx', 'tools/eval.ts', '--model', MNIST, '--images', DIGITS], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const top1 = Number(/\| 20 \| ([\d.]+)% \|/.exec(run.stdout)?.[1]);
    console.log(`npm run eval, MNIST on ${digitFiles().length} drawn digits: top-1 ${top1}%`);
    expect(top1).toBeGreaterThanOrEqual(90);
  });

  it('classifies drawn digits in the app', { timeout: 300_000 }, async () => {
    requireShared();
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page.getByTestId('model-import').setInputFiles(MNIST);
      await expect
        .poll(() => page.getByTestId('model-status').getAttribute('data-model'), { timeout: 120_000 })
        .toBe('mnist');
      const item = page.locator('[data-testid="model-item"][data-active="true"]');
      expect(await item.innerText()).toMatch(/0–255.*grey-scale/s);
      expect(await page.getByTestId('model-color').getAttribute('data-color')).toBe('grayscale');
      await page.getByTestId('view-classify').click();
      const digits = digitFiles();
      await classify(
        page,
        digits.map((d) => d.path),
      );
      let right = 0;
      for (const d of digits) if ((await shownPredictions(page, d.name))[0]!.label === d.digit) right++;
      console.log(`MNIST in Chromium: ${right}/${digits.length} drawn digits right`);
      expect(right).toBeGreaterThanOrEqual(18);
    } finally {
      await close();
    }
  });
});
