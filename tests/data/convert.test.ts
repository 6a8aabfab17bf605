import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeConverted } from '../../tools/convert';
import { convert } from '../../src/core/tflite/convert';
import { readTflite } from '../../src/core/tflite/reader';
import { decodeImageFile } from '../../tools/node-io';
import { loadModelDir, nodeEngine } from '../../tools/node-model';
import { requireShared, SAMPLE_1000, SHARED, sampleFiles } from './shared';

const ROOT = resolve(import.meta.dirname, '../..');
const TFLITE_DIR = resolve(SHARED, 'models/tflite');

describe('TFLite reader on the shared files', () => {
  it.each([
    [
      'mobilenet_v2_1.0_224_quant.tflite',
      { CONV_2D: 36, DEPTHWISE_CONV_2D: 17, ADD: 10, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 },
      [1, 224, 224, 3],
    ],
    [
      'mobilenet_v1_0.75_192_quant.tflite',
      { CONV_2D: 15, DEPTHWISE_CONV_2D: 13, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 },
      [1, 192, 192, 3],
    ],
  ])('%s', (file, ops, inputShape) => {
    requireShared();
    const model = readTflite(new Uint8Array(readFileSync(join(TFLITE_DIR, file))));
    const counts: Record<string, number> = {};
    for (const o of model.operators) counts[o.op] = (counts[o.op] ?? 0) + 1;
    expect(counts).toEqual(ops);
    expect(model.tensors[model.inputs[0]!]!.shape).toEqual(inputShape);
    expect(model.tensors[model.outputs[0]!]!.shape).toEqual([1, 1001]);
  });
});

describe('npm run model:build reproduces the shipped model from its TFLite source', () => {
  it('writes public/model byte for byte, and the two agree on every sample image', async () => {
    requireShared();
    const out = mkdtempSync(join(tmpdir(), 'glimpse-model-build-'));
    const converted = convert(
      readTflite(new Uint8Array(readFileSync(join(TFLITE_DIR, 'mobilenet_v2_1.0_224_quant.tflite')))),
      {
        name: 'mobilenet-v2-1.0-224-quant',
        source: 'mobilenet_v2_1.0_224_quant.tflite',
        labels: JSON.parse(readFileSync(join(SHARED, 'labels/imagenet1000_labels.json'), 'utf8')),
        dropBackground: true,
        crop: 0.875,
      },
    );
    const source = new Uint8Array(readFileSync(join(TFLITE_DIR, 'mobilenet_v2_1.0_224_quant.tflite')));
    await writeConverted(out, converted, readFileSync(join(TFLITE_DIR, 'LICENSE'), 'utf8'), source);
    for (const name of readdirSync(join(ROOT, 'public/model'))) {
      expect(readFileSync(join(out, name)).equals(readFileSync(join(ROOT, 'public/model', name))), name).toBe(true);
    }

    // The acceptance check as stated: same top-1 everywhere and probabilities within 1e-3,
    // against the model as shipped (and as first hand-converted, whose shard is the same file).
    const [built, shipped] = [await loadModelDir(out), await loadModelDir(join(ROOT, 'public/model'))];
    const [a, b] = [await nodeEngine(built), await nodeEngine(shipped)];
    let maxDiff = 0;
    for (const file of sampleFiles()) {
      const pixels = await decodeImageFile(join(SAMPLE_1000, file), shipped.spec);
      const [pa, pb] = [(await a.classify(pixels, 1000)).predictions, (await b.classify(pixels, 1000)).predictions];
      expect(pa[0]!.index, file).toBe(pb[0]!.index);
      const byIndex = new Map(pa.map((p) => [p.index, p.probability]));
      for (const p of pb) maxDiff = Math.max(maxDiff, Math.abs(p.probability - byIndex.get(p.index)!));
    }
    expect(maxDiff).toBeLessThan(1e-3);
  }, 900_000);
});
