import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchModelFiles } from '../../model/model-files';
import { importable, prepareImport } from '../../model/model-import';
import type { ImportFile } from '../../model/prepared-model';
import { recordFetcher, withManifest } from '../../model/model-records';
import { Engine } from '../../model/engine';
import { FIXTURES, MODEL_DIR, nodeTfjs } from '../helpers/model';
import { teachableMachineExport, TM_LABELS, TM_NAME } from '../helpers/teachable-machine';

let tm: ImportFile[];
const file = (name: string, text: string): ImportFile => ({ name, bytes: new TextEncoder().encode(text) });
const replace = (files: ImportFile[], name: string, bytes: Uint8Array) =>
  files.map((f) => (f.name === name ? { name, bytes } : f));
const modelJsonOf = (files: ImportFile[]) =>
  JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'model.json')!.bytes));
const withModelJson = (files: ImportFile[], edit: (json: any) => void) => {
  const json = modelJsonOf(files);
  edit(json);
  return replace(files, 'model.json', new TextEncoder().encode(JSON.stringify(json)));
};
const shipped = () =>
  ['model.json', 'group1-shard1of1.bin', 'labels.json', 'metadata.json'].map((name) => ({
    name,
    bytes: new Uint8Array(readFileSync(resolve(MODEL_DIR, name))),
  }));

beforeAll(async () => {
  await tf.setBackend('cpu');
  tm = await teachableMachineExport();
});

describe('model import: formats and preprocessing', () => {
  it('reads a Teachable Machine export (nested Sequential, no model_config wrapper, no format) with its preprocessing', () => {
    expect(modelJsonOf(tm).modelTopology.model_config).toBeUndefined();
    const prepared = prepareImport(tm);
    expect(prepared).toMatchObject({ name: TM_NAME, format: 'layers-model', labels: TM_LABELS });
    expect(prepared.spec).toMatchObject({ inputSize: [64, 64], fit: 'crop', centralCrop: 1 });
    expect(prepared.spec.range[0]).toBe(-1);
    expect(prepared.spec.range[1]).toBeCloseTo(255 / 127 - 1, 12);
    expect(prepared.preprocessing).toMatch(/Teachable Machine/);
  });

  it('reads the same export from its .zip, folders inside included', () => {
    const zip = zipSync(Object.fromEntries(tm.map((f) => [`my-model/${f.name}`, f.bytes])));
    expect(prepareImport([{ name: 'tm.zip', bytes: zip }]).labels).toEqual(TM_LABELS);
  });

  it('reads a graph model with Glimpse metadata, and a Keras-style layers model with labels.txt, inferring what it can', () => {
    expect(prepareImport(shipped()).spec).toMatchObject({
      inputSize: [224, 224],
      range: [-1, 1],
      fit: 'crop',
      centralCrop: 0.875,
    });
    const keras = tm.filter((f) => f.name !== 'metadata.json').concat(file('labels.txt', '0 red\n1 green\n2 blue\n'));
    const prepared = prepareImport(keras);
    expect(prepared.labels).toEqual(TM_LABELS);
    expect(prepared.spec).toMatchObject({ inputSize: [64, 64], range: [-1, 1], fit: 'squash' });
    expect(prepared.preprocessing).toMatch(/assumed/);
  });

  it('converts a .tflite with its labels, dropping the background class when the labels say so', () => {
    const labels = JSON.parse(readFileSync(resolve(MODEL_DIR, 'labels.json'), 'utf8'));
    const prepared = prepareImport([
      {
        name: 'mobilenet_v1_0.75_192_quant.tflite',
        bytes: new Uint8Array(readFileSync(resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite'))),
      },
      file('labels.json', JSON.stringify(labels)),
    ]);
    expect(prepared).toMatchObject({ format: 'graph-model', labels });
    expect(prepared.spec.inputSize).toEqual([192, 192]);
  });

  it('stores files the verified loader accepts, and the engine runs them with the format reference loader answers', async () => {
    const prepared = prepareImport(tm);
    const record = await withManifest(prepared.files);
    const files = await fetchModelFiles('https://glimpse.test/m/', () => undefined, recordFetcher(record));
    const engine = new Engine(files, [nodeTfjs]);
    await engine.prepare('cpu');
    await engine.select('cpu');
    expect(await engine.outputLength('cpu')).toBe(3);
    // A red image: the engine's answer equals tf.loadLayersModel on TM's own preprocessing.
    const red = {
      data: new Uint8Array(64 * 64 * 3).map((_, i) => (i % 3 === 0 ? 230 : 20)),
      width: 64,
      height: 64,
      channels: 3 as const,
    };
    const { predictions } = await engine.classify(red, 3);
    if (files.format !== 'layers-model') throw new Error('a TM export is a layers model');
    const reference = await tf.loadLayersModel(tf.io.fromMemory(files.artifacts));
    const expected = tf.tidy(() =>
      (
        reference.predict(
          tf.tensor4d(
            Float32Array.from(red.data, (x) => x / 127 - 1),
            [1, 64, 64, 3],
          ),
        ) as tf.Tensor
      ).dataSync(),
    );
    for (const p of predictions) expect(Math.abs(p.probability - expected[p.index]!)).toBeLessThan(1e-3);
    expect(predictions[0]!.label).toBe('red');
    engine.dispose();
    reference.dispose();
  });
});

describe('model import: bad input gets a specific error', () => {
  const cases: [string, () => ImportFile[], RegExp][] = [
    [
      'a model.json that is not JSON',
      () => replace(tm, 'model.json', new TextEncoder().encode('{"modelTopology": ')),
      /model\.json is not valid JSON/,
    ],
    ['missing weights', () => tm.filter((f) => f.name !== 'weights.bin'), /weights\.bin .* is missing/],
    [
      'short weights',
      () => replace(tm, 'weights.bin', tm.find((f) => f.name === 'weights.bin')!.bytes.slice(0, 20)),
      /short/,
    ],
    [
      'a shard listed twice',
      () => withModelJson(tm, (j) => (j.weightsManifest = [j.weightsManifest[0], j.weightsManifest[0]])),
      /listed twice/,
    ],
    [
      'labels that do not match the outputs',
      () =>
        replace(
          tm,
          'metadata.json',
          new TextEncoder().encode(
            JSON.stringify({ modelName: 'x', imageSize: 64, labels: ['a', 'b', 'c', 'd', 'e'] }),
          ),
        ),
      /3 outputs but there are 5 labels/,
    ],
    [
      'an input that is not an image',
      () =>
        withModelJson(
          tm,
          (j) => (j.modelTopology.config.layers[0].config.layers[0].config.batch_input_shape = [null, 10]),
        ),
      /not an image tensor/,
    ],
    [
      'two inputs',
      () =>
        withModelJson(
          replace(shipped(), 'metadata.json', new TextEncoder().encode('{}')),
          (j) => (j.signature.inputs = { a: j.signature.inputs[Object.keys(j.signature.inputs)[0]!], b: {} }),
        ),
      /2 inputs/,
    ],
    [
      'an unknown op in a .tflite',
      () => [file('x.tflite', 'TFL3 but not really a flatbuffer at all')],
      /not a TFLite flatbuffer/,
    ],
    [
      'a 500 MB weights manifest',
      () => withModelJson(tm, (j) => (j.weightsManifest[0].weights[0].shape = [1000, 1000, 3, 50])),
      /declares over 256 MB/,
    ],
    [
      'a weight path that is a URL',
      () => withModelJson(tm, (j) => (j.weightsManifest[0].paths = ['https://evil.example/w.bin'])),
      /URL/,
    ],
    [
      'a zip with ../ paths',
      () => [{ name: 'evil.zip', bytes: zipSync({ '../model.json': new Uint8Array(2) }) }],
      /not a plain relative path/,
    ],
    [
      'a zip with absolute paths',
      () => [{ name: 'evil.zip', bytes: zipSync({ '/etc/model.json': new Uint8Array(2) }) }],
      /not a plain relative path/,
    ],
    ['no model at all', () => [file('notes.txt', 'hello')], /no model\.json, \.tflite or \.onnx/],
    [
      'a graph model without labels (its outputs are not known before it runs)',
      () => shipped().filter((f) => f.name !== 'labels.json'),
      /no labels: add a labels file/,
    ],
  ];
  it.each(cases)('refuses %s', (_, files, message) => {
    expect(() => prepareImport(files())).toThrow(
      expect.objectContaining({ name: 'ModelFormatError', message: expect.stringMatching(message) }),
    );
  });

  it('refuses a zip bomb by its declared sizes, before inflating it', () => {
    // A small zip whose entry declares 400 MB (a bomb's tell), in its local and central headers.
    const bomb = zipSync({ 'model.json': new Uint8Array(1024) });
    const view = new DataView(bomb.buffer);
    for (let i = 0; i < bomb.length - 4; i++) {
      if (view.getUint32(i, true) === 0x04034b50) view.setUint32(i + 22, 400 * 1024 * 1024, true);
      if (view.getUint32(i, true) === 0x02014b50) view.setUint32(i + 24, 400 * 1024 * 1024, true);
    }
    expect(() => prepareImport([{ name: 'bomb.zip', bytes: bomb }])).toThrow(/would unpack to over 300 MB/);
  });
});

describe('model import: file names that are object keys', () => {
  it('keeps a weight file named __proto__ (renamed), instead of losing it and building a site whose model never loads', async () => {
    const files = withModelJson(tm, (json) => (json.weightsManifest[0].paths = ['__proto__'])).map((f) =>
      f.name === 'weights.bin' ? { name: '__proto__', bytes: f.bytes } : f,
    );
    const prepared = prepareImport(files);
    const paths = JSON.parse(new TextDecoder().decode(prepared.files['model.json'])).weightsManifest[0].paths;
    expect(paths).toEqual(['group1-shard1.bin']);
    expect(Object.keys(prepared.files)).toContain('group1-shard1.bin');
    expect(prepared.files['group1-shard1.bin']).toEqual(tm.find((f) => f.name === 'weights.bin')!.bytes);
    const model = await fetchModelFiles(
      'http://local/',
      () => undefined,
      recordFetcher(await withManifest(prepared.files)),
    );
    expect(model.labels).toEqual(TM_LABELS);
  });
});

describe('model import: honest refusals', () => {
  const lastDense = (json: any) => {
    const layers = json.modelTopology.config.layers;
    return layers.at(-1).config;
  };

  it('reads a Dense layer’s units given as a string, and names units that are no number', () => {
    expect(prepareImport(withModelJson(tm, (json) => (lastDense(json).units = '3'))).labels).toEqual(TM_LABELS);
    expect(() => prepareImport(withModelJson(tm, (json) => (lastDense(json).units = 'three')))).toThrow(
      /model\.json: the last Dense layer's units, "three", is not a whole number of outputs/,
    );
  });

  it('says a stored copy lacks a file, not that the network failed (HTTP 404)', async () => {
    const record = await withManifest(prepareImport(tm).files);
    const { ['labels.json']: _, ...damaged } = record.files;
    const missing = (name: string) =>
      Object.assign(new Error(`the stored copy lacks ${name}`), { name: 'ModelIntegrityError' });
    await expect(
      fetchModelFiles('http://local/', () => undefined, recordFetcher({ files: damaged }, missing)),
    ).rejects.toMatchObject({ name: 'ModelIntegrityError', message: 'the stored copy lacks labels.json' });
    await expect(
      fetchModelFiles('http://local/', () => undefined, recordFetcher({ files: damaged })),
    ).rejects.toMatchObject({ name: 'ModelLoadError' });
  });
});

describe('model import: what is read at all', () => {
  it('leaves out photos and videos chosen with a model, and refuses a file or selection too large for a model before reading any', () => {
    const model = [
      { name: 'model.json', size: 2_000 },
      { name: 'weights.bin', size: 2_000_000 },
      { name: 'labels.txt', size: 20 },
    ];
    expect(importable([...model, { name: 'holiday.MP4', size: 3e9 }, { name: 'cat.jpg', size: 4e6 }])).toEqual(model);
    expect(() => importable([...model, { name: 'dump.bin', size: 3e9 }])).toThrow(
      /dump\.bin is 2861 MB: no file of a model is over 300 MB/,
    );
    expect(() =>
      importable([...model, ...Array.from({ length: 3 }, (_, i) => ({ name: `w${i}.bin`, size: 150 * 1024 * 1024 }))]),
    ).toThrow(/the chosen files hold 452 MB: a model is at most 300 MB/);
  });
});
