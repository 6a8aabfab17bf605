import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeConverted } from '../../tools/convert';
import { convert, inputRange } from '../../src/core/tflite/convert';
import { readTflite } from '../../src/core/tflite/reader';
import { decodeImageFile } from '../../tools/node-io';
import { loadModelDir, nodeEngine } from '../../tools/node-model';
import { FIXTURES, MODEL_DIR, nodeTfjs } from '../helpers/model';
import { tinyTflite } from '../helpers/tflite-files';
import { prepareImport } from '../../model/model-import';
import { fetchModelFiles } from '../../model/model-files';
import { recordFetcher, withManifest } from '../../model/model-records';
import { Engine } from '../../model/engine';

const TFLITE = resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite');
const labels = JSON.parse(readFileSync(join(MODEL_DIR, 'labels.json'), 'utf8')) as string[];

describe('TFLite reader', () => {
  const model = readTflite(new Uint8Array(readFileSync(TFLITE)));

  it('lists the ops and shapes of MobileNet v1 0.75 quant', () => {
    const ops: Record<string, number> = {};
    for (const o of model.operators) ops[o.op] = (ops[o.op] ?? 0) + 1;
    expect(ops).toEqual({ CONV_2D: 15, DEPTHWISE_CONV_2D: 13, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 });
    const input = model.tensors[model.inputs[0]!]!;
    expect(input).toMatchObject({ shape: [1, 192, 192, 3], type: 'uint8', scale: [0.0078125], zeroPoint: [128] });
    expect(model.tensors[model.outputs[0]!]!.shape).toEqual([1, 1001]);
    const firstConv = model.tensors[model.operators[0]!.inputs[1]!]!;
    expect(firstConv).toMatchObject({ shape: [24, 3, 3, 3], type: 'uint8' });
    expect(firstConv.data.byteLength).toBe(24 * 3 * 3 * 3);
  });

  it('maps a uint8 input quantization to the standard [-1, 1] range', () => {
    expect(inputRange(model.tensors[model.inputs[0]!]!)).toEqual([-1, 1]);
  });

  it('refuses a file that is not TFLite', () => {
    expect(() => readTflite(new Uint8Array(readFileSync(join(FIXTURES, 'cat.png'))))).toThrow(
      /not a TFLite flatbuffer/,
    );
  });

  it('names unsupported ops in its error', () => {
    const exotic = { ...model, operators: model.operators.map((o, i) => (i === 3 ? { ...o, op: 'HARD_SWISH' } : o)) };
    expect(() => convert(exotic, { name: 'x', source: 'x' })).toThrow(/unsupported TFLite ops: HARD_SWISH/);
  });
});

describe('npm run convert', () => {
  it('writes a graph model that tfjs loads and that classifies the photos, copying uint8 weights losslessly', async () => {
    const model = readTflite(new Uint8Array(readFileSync(TFLITE)));
    const converted = convert(model, {
      name: 'mobilenet-v1-0.75-192-quant',
      source: 'fixture',
      labels: ['background', ...labels],
      dropBackground: true,
      crop: 0.875,
    });
    expect(converted.labels).toHaveLength(1000);
    const kernels = converted.weights.filter((w) => w.quantization?.dtype === 'uint8');
    expect(kernels).toHaveLength(28);
    // The first conv kernel: TFLite OHWI [24,3,3,3] → tfjs HWIO [3,3,3,24], same bytes reordered.
    const tfliteKernel = model.tensors[model.operators[0]!.inputs[1]!]!;
    const first = kernels[0]!;
    expect(first.shape).toEqual([3, 3, 3, 24]);
    expect(first.bytes[((1 * 3 + 2) * 3 + 0) * 24 + 5]).toBe(tfliteKernel.data[((5 * 3 + 1) * 3 + 2) * 3 + 0]);
    expect(first.quantization).toEqual({
      dtype: 'uint8',
      scale: tfliteKernel.scale[0],
      min: -tfliteKernel.scale[0]! * tfliteKernel.zeroPoint[0]!,
    });

    const out = mkdtempSync(join(tmpdir(), 'glimpse-convert-'));
    await writeConverted(out, converted);
    const files = await loadModelDir(out);
    expect(files.spec).toMatchObject({ inputSize: [192, 192], range: [-1, 1], centralCrop: 0.875 });
    const engine = await nodeEngine(files);
    for (const [photo, index] of [
      ['parrot.jpg', 88],
      ['hot_dog.jpg', 934],
      ['bird.png', 19],
    ] as const) {
      const { predictions } = await engine.classify(await decodeImageFile(join(FIXTURES, photo), files.spec), 1);
      expect(predictions[0]!.index, photo).toBe(index);
    }
    engine.dispose();
  });
});

describe('a FULLY_CONNECTED head (MobileNet V2 exports such as Coral’s iNat insects end in one)', () => {
  it('answers alike on tfjs-wasm and tfjs-cpu, and as the dense product computed by hand', async () => {
    const tflite = tinyTflite({ fullyConnected: 300 });
    const model = readTflite(tflite);
    const prepared = prepareImport([{ name: 'fc.tflite', bytes: tflite }]);
    const files = await fetchModelFiles(
      'https://glimpse.test/fc/',
      () => undefined,
      recordFetcher(await withManifest(prepared.files)),
    );
    const pixels = {
      data: Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 37) % 256),
      width: 8,
      height: 8,
      channels: 3 as const,
    };
    const answers: Record<string, Float32Array> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      const engine = new Engine(files, [nodeTfjs]);
      await engine.prepare(backend);
      await engine.select(backend);
      answers[backend] = await engine.probabilities(pixels);
      const pooled = await engine.features(pixels, 'pool');
      // softmax(pooled · Wᵀ + b), W and b as the file holds them.
      const weights = new Float32Array(model.tensors[7]!.data.slice().buffer);
      const bias = new Float32Array(model.tensors[8]!.data.slice().buffer);
      const logits = [0, 1, 2, 3].map(
        (c) => bias[c]! + pooled.reduce((sum, v, k) => sum + v * weights[c * 300 + k]!, 0),
      );
      const top = Math.max(...logits);
      const total = logits.reduce((sum, l) => sum + Math.exp(l - top), 0);
      logits.forEach((l, c) =>
        expect(answers[backend]![c], `${backend} class ${c}`).toBeCloseTo(Math.exp(l - top) / total, 4),
      );
      engine.dispose();
    }
  });
});
