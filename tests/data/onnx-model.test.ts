import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { NODE_ORT_OPTIONS } from '../../tools/node-model';
import sharp from 'sharp';
import { describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { modelInput } from '../../src/core/model-input';
import { runEval } from '../../tools/eval';
import { decodeImageFile } from '../../tools/node-io';
import { prepareImport } from '../../model/model-import';
import { classify, shownPredictions, waitReady } from '../e2e/app';
import { requireShared, SAMPLE_1000, SHARED, sampleFiles } from './shared';

const baseUrl = inject('baseUrl');
const HF = resolve(SHARED, 'models/onnx/mobilenetv2-12-int8-hf');
const HF_FILES = ['config.json', 'preprocessor_config.json', 'onnx/model_quantized.onnx'];
const upload = (name: string) => ({
  name: name.split('/').pop()!,
  mimeType: 'application/octet-stream',
  buffer: readFileSync(resolve(HF, name)),
});
/** Every 25th photo of the sample: 40 photos of 40 classes. */
const photos = () => sampleFiles().filter((_, i) => i % 25 === 0);

function softmax(logits: Float32Array): number[] {
  const top = Math.max(...logits);
  const total = logits.reduce((sum, l) => sum + Math.exp(l - top), 0);
  return Array.from(logits, (l) => Math.exp(l - top) / total);
}

/** The reference runtime on the app's own input values for `pixels`. */
async function reference(session: ort.InferenceSession, input: Float32Array<ArrayBuffer>): Promise<number[]> {
  const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 224, 224]) });
  return softmax(out.output!.data as Float32Array);
}

describe('the ONNX Model Zoo MobileNetV2 int8, as a Hugging Face folder, in Chromium', () => {
  it('answers as onnxruntime-node does on the same pixels (within 1e-3), and agrees on top-1 for real photos', async () => {
    requireShared();
    const prepared = prepareImport(
      HF_FILES.map((name) => ({ name, bytes: new Uint8Array(readFileSync(resolve(HF, name))) })),
    );
    const session = await ort.InferenceSession.create(prepared.files['model.onnx']!, NODE_ORT_OPTIONS);
    // Photos already at the model's size: the engine is compared, not two resizers.
    const atSize = await Promise.all(
      photos()
        .slice(0, 10)
        .map(async (name) => ({
          name: `${name}.224.png`,
          mimeType: 'image/png',
          buffer: await sharp(resolve(SAMPLE_1000, name))
            .resize(224, 224, { fit: 'cover' })
            .removeAlpha()
            .png()
            .toBuffer(),
        })),
    );
    const whole = photos();
    const { page, close } = await openPage(`${baseUrl}?view=models`);
    try {
      await waitReady(page);
      const started = Date.now();
      await page.getByTestId('model-import').setInputFiles(HF_FILES.map(upload));
      await expect
        .poll(() => page.getByTestId('model-status').getAttribute('data-backend'), { timeout: 120_000 })
        .toBe('onnx-wasm');
      console.log(
        `ONNX import of ${HF_FILES.join(', ')}: ${Date.now() - started} ms to active, as ${await page.getByTestId('model-status').getAttribute('data-model')}`,
      );
      await page.getByTestId('view-classify').click();

      await classify(page, atSize);
      let worst = 0;
      for (const photo of atSize) {
        const { data, info } = await sharp(photo.buffer).raw().toBuffer({ resolveWithObject: true });
        // At 224 on both sides with a 0.875 crop the app resizes the central 196 pixels up: so does the reference, through the same modelInput.
        const expected = await reference(
          session,
          modelInput({ data, width: info.width, height: info.height, channels: info.channels as 3 }, prepared.spec),
        );
        for (const p of await shownPredictions(page, photo.name))
          worst = Math.max(worst, Math.abs(p.probability - expected[p.index]!));
      }
      console.log(
        `largest difference from onnxruntime-node over ${atSize.length} photos × top-5: ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-3);

      await classify(
        page,
        whole.map((name) => resolve(SAMPLE_1000, name)),
      );
      let agree = 0;
      for (const name of whole) {
        const shown = await shownPredictions(page, name);
        const pixels = await decodeImageFile(resolve(SAMPLE_1000, name), prepared.spec);
        const expected = await reference(session, modelInput(pixels, prepared.spec));
        if (shown[0]!.index === expected.indexOf(Math.max(...expected))) agree++;
      }
      console.log(
        `top-1 agreement with onnxruntime-node (browser decode and resize vs sharp): ${agree} / ${whole.length}`,
      );
      expect(agree / whole.length).toBeGreaterThanOrEqual(0.95);
    } finally {
      await session.release();
      await close();
    }
  });

  it('npm run eval scores the Hugging Face folder as it is (no conversion step)', async () => {
    requireShared();
    const report = await runEval({ model: HF, images: SAMPLE_1000, limit: 200 });
    console.log(
      `npm run eval on ${HF}: top-1 ${(100 * report.top1).toFixed(1)}%, top-5 ${(100 * report.top5).toFixed(1)}% on ${report.n} photos, ${report.msPerImage.toFixed(1)} ms per photo`,
    );
    expect(report.n).toBe(200);
    expect(report.top1).toBeGreaterThan(0.75);
  });
});
