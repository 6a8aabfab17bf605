import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { inputShape, modelInput } from '../../src/core/model-input';
import { parseModelSpec, type ModelSpec } from '../../src/core/model-spec';
import type { Pixels } from '../../src/core/model-input';
import { fetchModelFiles } from '../../model/model-files';
import { prepareImport } from '../../model/model-import';
import type { ImportFile } from '../../model/prepared-model';
import { recordFetcher, withManifest } from '../../model/model-records';
import { Engine } from '../../model/engine';
import { nodeEngine, NODE_ORT_OPTIONS } from '../../tools/node-model';
import { nodeTfjs } from '../helpers/model';
import { tinyOnnx } from '../helpers/onnx-files';
import { tinyTflite } from '../helpers/tflite-files';

/** Grey-scale and BGR inputs, for every format: one luma channel or the colours reversed, fed to each runtime alike. */

const SPEC: ModelSpec = {
  name: 't',
  inputSize: [2, 2],
  range: [0, 255],
  fit: 'squash',
  centralCrop: 1,
  layout: 'nhwc',
  outputIsLogits: true,
  classOffset: 0,
};
/** A 2 × 2 RGB image, one colour a pixel. */
const image: Pixels = {
  data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]),
  width: 2,
  height: 2,
  channels: 3,
};
const text = (name: string, value: string): ImportFile => ({ name, bytes: new TextEncoder().encode(value) });
const solid = (rgb: [number, number, number], size = 8): Pixels => ({
  data: Uint8Array.from({ length: size * size * 3 }, (_, i) => rgb[i % 3]!),
  width: size,
  height: size,
  channels: 3,
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the input’s colour', () => {
  it('writes one luma channel (BT.601) for a grey-scale model, and the channels reversed for a BGR one', () => {
    const grey = modelInput(image, { ...SPEC, color: 'grayscale' });
    expect(Array.from(grey)).toEqual(
      [0.299 * 255, 0.587 * 255, 0.114 * 255, 0.299 * 10 + 0.587 * 20 + 0.114 * 30].map((v) => expect.closeTo(v, 3)),
    );
    expect(inputShape({ ...SPEC, color: 'grayscale' })).toEqual([1, 2, 2, 1]);
    expect(inputShape({ ...SPEC, color: 'grayscale', layout: 'nchw' })).toEqual([1, 1, 2, 2]);
    expect(Array.from(modelInput(image, { ...SPEC, color: 'bgr' }))).toEqual([
      0, 0, 255, 0, 255, 0, 255, 0, 0, 30, 20, 10,
    ]);
    // Per-channel normalisation follows the model's own channel order.
    const bgr = modelInput(image, { ...SPEC, color: 'bgr', normalize: { mean: [1, 2, 3], std: [1, 1, 1] } });
    expect(Array.from(bgr.subarray(9))).toEqual([29, 18, 7]);
  });

  it('reads the colour from metadata: one channel is grey, a layout or color that says BGR is BGR', () => {
    expect(parseModelSpec({ input: { shape: [1, 28, 28, 1], range: [0, 1] } }).color).toBe('grayscale');
    expect(parseModelSpec({ input: { shape: [1, 1, 28, 28], layout: 'NCHW', range: [0, 1] } }).color).toBe('grayscale');
    expect(parseModelSpec({ input: { shape: [1, 8, 8, 3], layout: 'NHWC BGR', range: [0, 1] } }).color).toBe('bgr');
    expect(parseModelSpec({ input: { shape: [1, 8, 8, 3], color: 'bgr', range: [0, 1] } }).color).toBe('bgr');
    expect(parseModelSpec({ input: { shape: [1, 8, 8, 3], layout: 'NHWC RGB', range: [0, 1] } }).color).toBeUndefined();
  });
});

describe('grey-scale models of every format', () => {
  it('ONNX: imports a one-channel input (0–255 assumed) and answers as onnxruntime-node does on the luma', async () => {
    const prepared = prepareImport([
      { name: 'digits.onnx', bytes: tinyOnnx({ channels: 1 }) },
      text('labels.txt', 'dark\nmid\nlight'),
    ]);
    expect(prepared.spec).toMatchObject({ color: 'grayscale', range: [0, 255], layout: 'nchw' });
    expect(prepared.preprocessing).toMatch(/NCHW, grey-scale/);
    const pixels = solid([200, 40, 90]);
    const session = await ort.InferenceSession.create(prepared.files['model.onnx']!, NODE_ORT_OPTIONS);
    const luma = 0.299 * 200 + 0.587 * 40 + 0.114 * 90;
    const fed = modelInput(pixels, prepared.spec);
    expect(fed).toHaveLength(64);
    for (const v of fed) expect(v).toBeCloseTo(luma, 3);
    const out = (await session.run({ pixel_values: new ort.Tensor('float32', fed, [1, 1, 8, 8]) })).scores!
      .data as Float32Array;
    await session.release();
    const engine = await nodeEngine(
      await fetchModelFiles(
        'https://glimpse.test/grey/',
        () => undefined,
        recordFetcher(await withManifest(prepared.files)),
      ),
    );
    const { predictions } = await engine.classify(pixels, 3);
    const top = Math.max(...out);
    const total = [...out].reduce((sum, v) => sum + Math.exp(v - top), 0);
    for (const p of predictions)
      expect(Math.abs(p.probability - Math.exp(out[p.index]! - top) / total)).toBeLessThan(1e-6);
    engine.dispose();
  });

  it('TFLite: converts a one-channel input and runs it on tfjs', async () => {
    const prepared = prepareImport([
      { name: 'grey.tflite', bytes: tinyTflite({ channels: 1 }) },
      text('labels.txt', 'a\nb\nc\nd'),
    ]);
    expect(prepared.spec.color).toBe('grayscale');
    const engine = new Engine(
      await fetchModelFiles(
        'https://glimpse.test/grey-tflite/',
        () => undefined,
        recordFetcher(await withManifest(prepared.files)),
      ),
      [nodeTfjs],
    );
    await engine.prepare('cpu');
    await engine.select('cpu');
    // The same grey from two colours of equal luma gives the same answer; another grey, another.
    // Luma 100 and 100.05: the same answer within rounding; a lighter grey, another answer.
    const [a, b, c] = [
      await engine.probabilities(solid([100, 100, 100])),
      await engine.probabilities(solid([130, 85, 99])),
      await engine.probabilities(solid([220, 220, 220])),
    ];
    for (let i = 0; i < 4; i++) expect(a[i]).toBeCloseTo(b[i]!, 3);
    expect(Math.max(...a.map((p, i) => Math.abs(p - c[i]!)))).toBeGreaterThan(0.01);
    engine.dispose();
  });

  it('TF.js: imports a layers model with a one-channel input', async () => {
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 2, activation: 'softmax' })],
    });
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(
      tf.io.withSaveHandler(
        async (artifacts) => (
          (saved = artifacts),
          { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
        ),
      ),
    );
    const artifacts = saved! as tf.io.ModelArtifacts;
    const json = {
      format: 'layers-model',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    const prepared = prepareImport([
      text('model.json', JSON.stringify(json)),
      { name: 'weights.bin', bytes: new Uint8Array(artifacts.weightData as ArrayBuffer) },
      text('classes.txt', 'ink\npaper'),
    ]);
    expect(prepared.spec).toMatchObject({ color: 'grayscale', inputSize: [4, 4] });
    expect(prepared.labels).toEqual(['ink', 'paper']);
    model.dispose();
  });
});
