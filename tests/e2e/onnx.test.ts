import * as ort from 'onnxruntime-node';
import { NODE_ORT_OPTIONS } from '../../tools/node-model';
import sharp from 'sharp';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { modelInput } from '../../src/core/model-input';
import { prepareImport } from '../../model/model-import';
import { classify, FIXTURES, installed, shownPredictions, waitReady } from './app';
import { labelledVariants } from '../../harness/labelled-photos';
import { huggingFaceFiles, tinyExternalData, tinyOnnx } from '../helpers/onnx-files';

const baseUrl = inject('baseUrl');
const BUILTIN_NAME = 'mobilenet-v2-1.0-224-quant';
const LABELS = ['red', 'green', 'blue'];
const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 40],
  green: [30, 200, 50],
  blue: [20, 40, 210],
};
type Upload = { name: string; mimeType: string; buffer: Buffer };

const upload = (name: string, bytes: Uint8Array | string): Upload => ({
  name,
  mimeType: 'application/octet-stream',
  buffer: Buffer.from(bytes),
});
const status = (page: Page) => page.getByTestId('model-status');

/** A Hugging Face folder's files chosen flat in one file dialog: config.json, preprocessor_config.json and the .onnx. */
function huggingFaceUpload(model = tinyOnnx()): Upload[] {
  const { config, preprocessor } = huggingFaceFiles(LABELS);
  return [
    upload('config.json', JSON.stringify(config)),
    upload('preprocessor_config.json', JSON.stringify(preprocessor)),
    upload('model.onnx', model),
  ];
}

/** onnxruntime-node on the pixels the swatch decodes to (at the model's size: no resizing), softmaxed. */
async function reference(swatch: Buffer): Promise<number[]> {
  const prepared = prepareImport(huggingFaceUpload().map((u) => ({ name: u.name, bytes: new Uint8Array(u.buffer) })));
  const { data, info } = await sharp(swatch).raw().toBuffer({ resolveWithObject: true });
  const input = modelInput(
    { data, width: info.width, height: info.height, channels: info.channels as 3 },
    prepared.spec,
  );
  const session = await ort.InferenceSession.create(prepared.files['model.onnx']!, NODE_ORT_OPTIONS);
  const logits = Array.from(
    (await session.run({ pixel_values: new ort.Tensor('float32', input, [1, 3, 8, 8]) })).scores!.data as Float32Array,
  );
  await session.release();
  const top = Math.max(...logits);
  const total = logits.reduce((sum, l) => sum + Math.exp(l - top), 0);
  return logits.map((l) => Math.exp(l - top) / total);
}

describe('an ONNX model (PyTorch / Hugging Face)', () => {
  let swatches: Upload[];
  beforeAll(async () => {
    swatches = await Promise.all(
      Object.entries(COLOURS).map(async ([name, [r, g, b]]) => ({
        name: `${name}.png`,
        mimeType: 'image/png',
        buffer: await sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g, b } } })
          .png()
          .toBuffer(),
      })),
    );
  });

  it(
    'imports a Hugging Face folder chosen flat, runs on ONNX Runtime as onnxruntime-node does, and keeps working offline',
    { timeout: 240_000 },
    async () => {
      const { page, context, close } = await openPage(`${baseUrl}?view=models`);
      try {
        await waitReady(page);
        await installed(page);
        await page.getByTestId('model-import').setInputFiles(huggingFaceUpload());
        await expect.poll(() => status(page).getAttribute('data-model')).toBe('glimpse/tiny-colours');
        await expect.poll(() => status(page).getAttribute('data-backend')).toBe('onnx-wasm');
        const item = page.locator('[data-testid="model-item"][data-active="true"]');
        expect(await item.innerText()).toMatch(/onnx.*preprocessor_config\.json.*NCHW.*logits/s);

        await page.getByTestId('view-classify').click();
        await classify(page, swatches);
        for (const swatch of swatches) {
          const shown = await shownPredictions(page, swatch.name);
          expect(shown[0]!.label).toBe(swatch.name.replace('.png', ''));
          const expected = await reference(swatch.buffer);
          for (const p of shown) expect(Math.abs(p.probability - expected[p.index]!)).toBeLessThan(1e-3);
        }

        // Offline, after a reload: the stored model and ONNX Runtime's kept wasm still answer.
        await context.setOffline(true);
        await page.reload();
        await waitReady(page);
        expect(await status(page).getAttribute('data-model')).toBe('glimpse/tiny-colours');
        expect(await status(page).getAttribute('data-backend')).toBe('onnx-wasm');
        await page.getByTestId('view-classify').click();
        await classify(page, [swatches[2]!]);
        expect((await shownPredictions(page, 'blue.png'))[0]!.label).toBe('blue');
        await context.setOffline(false);

        // The built-in model is a click away, on tfjs again.
        await page.getByTestId('view-models').click();
        await page
          .locator(`[data-testid="model-item"][data-model-name="${BUILTIN_NAME}"]`)
          .getByTestId('model-use')
          .click();
        await expect.poll(() => status(page).getAttribute('data-model')).toBe(BUILTIN_NAME);
        expect(await waitReady(page)).not.toMatch(/^onnx/);
      } finally {
        await close();
      }
    },
  );

  it(
    'imports a model whose weights are in an external data file chosen with it, and answers as with them inside',
    { timeout: 180_000 },
    async () => {
      const { page, close } = await openPage(`${baseUrl}?view=models`);
      try {
        await waitReady(page);
        await page
          .getByTestId('model-import')
          .setInputFiles([
            ...huggingFaceUpload(tinyOnnx({ externalData: 'model.onnx_data' })),
            upload('model.onnx_data', tinyExternalData()),
          ]);
        await expect.poll(() => status(page).getAttribute('data-backend')).toBe('onnx-wasm');
        await page.getByTestId('view-classify').click();
        await classify(page, swatches);
        for (const swatch of swatches) {
          const shown = await shownPredictions(page, swatch.name);
          const expected = await reference(swatch.buffer);
          for (const p of shown) expect(Math.abs(p.probability - expected[p.index]!)).toBeLessThan(1e-3);
        }
      } finally {
        await close();
      }
    },
  );

  it('corrects a bare .onnx with a preset, stored anew', { timeout: 180_000 }, async () => {
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      await page
        .getByTestId('model-import')
        .setInputFiles([upload('colours.onnx', tinyOnnx()), upload('labels.txt', LABELS.join('\n'))]);
      await expect.poll(() => status(page).getAttribute('data-model')).toBe('colours');
      // Assumed ImageNet mean/std for an NCHW model; the preset [-1, 1] replaces them.
      expect(await page.getByTestId('model-mean').inputValue()).toBe('0.485, 0.456, 0.406');
      await page.getByTestId('model-preset').selectOption('minus1to1');
      expect(await page.getByTestId('model-mean').inputValue()).toBe('');
      await page.getByTestId('model-correct').click();
      await expect
        .poll(() => page.locator('[data-testid="model-item"][data-active="true"]').innerText())
        .toMatch(/corrected by hand/);
      // The form takes the corrected model's values once the list names it: polled, as a busy machine shows them later.
      await expect.poll(() => page.getByTestId('model-range-lo').inputValue()).toBe('-1');
      expect(await page.getByTestId('model-mean').inputValue()).toBe('');
    } finally {
      await close();
    }
  });

  it(
    'trains while an ONNX model is active: on the built-in model’s features, and says so',
    { timeout: 240_000 },
    async () => {
      const photos = await labelledVariants(FIXTURES, 3);
      const { page, close } = await openPage(`${baseUrl}?view=models`);
      try {
        await waitReady(page);
        await page
          .getByTestId('model-import')
          .setInputFiles([upload('colours.onnx', tinyOnnx()), upload('labels.txt', LABELS.join('\n'))]);
        await expect.poll(() => status(page).getAttribute('data-backend')).toBe('onnx-wasm');
        await page.getByTestId('view-train').click();
        const base = page.getByTestId('train-base');
        expect(await base.getAttribute('data-features')).toBe('builtin');
        expect(await base.innerText()).toMatch(
          /“colours” cannot give the features training needs .* uses the built-in model’s features/,
        );
        await page
          .getByTestId('train-files')
          .setInputFiles(photos.map((p) => ({ name: p.name, mimeType: 'image/png', buffer: p.buffer })));
        await expect.poll(() => page.getByTestId('train-class').count()).toBe(3);
        await page.getByTestId('train-start').click();
        const train = page.getByTestId('train-status');
        await expect.poll(() => train.getAttribute('data-state'), { timeout: 200_000 }).toMatch(/done|error/);
        expect(await train.getAttribute('data-state'), await train.innerText()).toBe('done');
        // The ONNX model still answers: training ran beside it, not instead of it.
        expect(await status(page).getAttribute('data-model')).toBe('colours');
      } finally {
        await close();
      }
    },
  );

  it.each([
    [
      'external weights left out of the files',
      () => huggingFaceUpload(tinyOnnx({ externalData: 'model.onnx_data' })),
      /model\.onnx_data \(external data\), which is not among the files/,
    ],
    [
      'an operator ONNX Runtime lacks',
      () => huggingFaceUpload(tinyOnnx({ unknownOp: true })),
      /Sparkle|com\.example\.magic/,
    ],
    [
      'a segmentation-style output',
      () => huggingFaceUpload(tinyOnnx({ spatialOutput: true })),
      /detection or segmentation/,
    ],
  ])(
    'refuses %s with a clear message, the built-in model still answering',
    { timeout: 180_000 },
    async (_, files, message) => {
      const { page, close } = await openPage(`${baseUrl}?view=models`);
      try {
        await waitReady(page);
        await page.getByTestId('model-import').setInputFiles(files());
        const error = page.getByTestId('model-error');
        await expect.poll(() => error.innerText(), { timeout: 60_000 }).toMatch(message);
        expect(await error.getAttribute('data-error')).toBe('ModelFormatError');
        expect(await status(page).getAttribute('data-model')).toBe(BUILTIN_NAME);
        await page.getByTestId('view-classify').click();
        await classify(page, ['tests/fixtures/parrot.jpg']);
        expect((await shownPredictions(page, 'parrot.jpg'))[0]!.label).toMatch(/macaw/);
      } finally {
        await close();
      }
    },
  );

  it(
    'tries an imported ONNX model in the import worker first: an ONNX Runtime that aborts there leaves the running ONNX model answering',
    { timeout: 240_000 },
    async () => {
      let abort = false;
      let aborted = 0;
      // What an ONNX Runtime whose wasm aborts on a crafted file looks like to its caller.
      const failing = `export const env = { wasm: {} };
      export class Tensor { dispose() {} }
      export const InferenceSession = { create: async () => { throw new WebAssembly.RuntimeError('Aborted(crafted file). Build with -sASSERTIONS for more info.'); } };`;
      const { page, close } = await openPage(`${baseUrl}?view=models`, {
        serviceWorkers: 'block',
        init: (p) =>
          p.context().route('**/assets/ort.wasm.bundle.min-*.js', (route) => {
            if (!abort) return route.continue();
            aborted++;
            return route.fulfill({ contentType: 'text/javascript', body: failing });
          }),
      } as Parameters<typeof openPage>[1]);
      try {
        await waitReady(page);
        await page.getByTestId('model-import').setInputFiles(huggingFaceUpload());
        await expect.poll(() => status(page).getAttribute('data-model')).toBe('glimpse/tiny-colours');
        await expect.poll(() => status(page).getAttribute('data-backend')).toBe('onnx-wasm');

        abort = true;
        await page
          .getByTestId('model-import')
          .setInputFiles([upload('other.onnx', tinyOnnx({ softmax: true })), upload('labels.txt', 'a\nb\nc')]);
        const error = page.getByTestId('model-error');
        await expect
          .poll(() => error.innerText(), { timeout: 60_000 })
          .toMatch(/cannot load the model: Aborted\(crafted file\)/);
        expect(aborted).toBe(1);
        expect(await status(page).getAttribute('data-model')).toBe('glimpse/tiny-colours');
        await page.getByTestId('view-classify').click();
        await classify(page, [swatches[1]!]);
        expect((await shownPredictions(page, 'green.png'))[0]!.label).toBe('green');
      } finally {
        await close();
      }
    },
  );
});
