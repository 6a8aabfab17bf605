import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readOnnx } from '../../src/core/onnx-reader';
import { modelInput } from '../../src/core/model-input';
import { prepareImport } from '../../model/model-import';
import type { ImportFile } from '../../model/prepared-model';
import { fromPreprocessorConfig, onnxVariants } from '../../model/onnx-import';
import { fetchModelFiles } from '../../model/model-files';
import { recordFetcher, withManifest } from '../../model/model-records';
import { loadModel, nodeEngine, NODE_ORT_OPTIONS } from '../../tools/node-model';
import { huggingFaceFiles, tinyExternalData, tinyOnnx, tinyReference } from '../helpers/onnx-files';
import { FIXTURES } from '../helpers/model';

const LABELS = ['red', 'green', 'blue'];
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const file = (name: string, content: Uint8Array): ImportFile => ({ name, bytes: content });

function huggingFaceFolder(model = tinyOnnx(), folder = 'tiny-colours'): ImportFile[] {
  const { config, preprocessor } = huggingFaceFiles(LABELS);
  return [
    file(`${folder}/config.json`, bytes(config)),
    file(`${folder}/preprocessor_config.json`, bytes(preprocessor)),
    file(`${folder}/onnx/model.onnx`, model),
  ];
}

/** A solid-colour image, RGBA. */
function solid([r, g, b]: readonly [number, number, number], width = 8, height = 8) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([r, g, b, 255], i * 4);
  return { data, width, height, channels: 4 as const };
}

describe('reading an ONNX file (the bounded protobuf walker)', () => {
  it('finds the image input, the class output and what produces it, without the weights', () => {
    const graph = readOnnx(tinyOnnx({ classes: 5, softmax: true }));
    expect(graph.inputs).toEqual([{ name: 'pixel_values', elemType: 1, dims: ['batch_size', 3, 8, 8] }]);
    expect(graph.outputs).toEqual([{ name: 'scores', elemType: 1, dims: ['batch_size', 5] }]);
    expect(graph.nodes.map((n) => n.opType)).toEqual(['GlobalAveragePool', 'Flatten', 'Gemm', 'Softmax']);
    expect(graph.opsets['ai.onnx']).toBe(13);
    expect(graph.externalFiles).toEqual([]);
  });

  it('names external weight files', () => {
    expect(readOnnx(tinyOnnx({ externalData: 'model.onnx_data' })).externalFiles).toEqual(['model.onnx_data']);
  });

  it('refuses what is not an ONNX model, and any cut, by name', () => {
    expect(() => readOnnx(new TextEncoder().encode('{"format": "graph-model"}'), 'x.onnx')).toThrow(/x\.onnx/);
    const model = tinyOnnx();
    for (const cut of [1, 7, 40, Math.floor(model.length / 2), model.length - 3]) {
      let error: unknown = null;
      try {
        readOnnx(model.subarray(0, cut));
      } catch (e) {
        error = e;
      }
      // A cut may still parse as a smaller valid message; then the graph it leaves must be refused by the import.
      if (error) expect((error as Error).name).toBe('ModelFormatError');
    }
  });
});

describe('importing an ONNX classifier', () => {
  it('reads a Hugging Face folder: id2label, preprocessor_config.json, NCHW, logits, the folder name', () => {
    const prepared = prepareImport(huggingFaceFolder());
    expect(prepared.format).toBe('onnx');
    expect(prepared.name).toBe('tiny-colours');
    expect(prepared.labels).toEqual(LABELS);
    expect(prepared.spec).toMatchObject({
      inputSize: [8, 8],
      layout: 'nchw',
      range: [0, 1],
      fit: 'squash',
      normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      outputIsLogits: true,
    });
    expect(prepared.preprocessing).toMatch(/preprocessor_config\.json.*NCHW.*logits/);
    expect(Object.keys(prepared.files).sort()).toEqual(['labels.json', 'metadata.json', 'model.onnx']);
  });

  it('names the model after config.json when the files come flat, else after the .onnx', () => {
    const flat = huggingFaceFolder().map((f) => ({ ...f, name: f.name.split('/').pop()! }));
    expect(prepareImport(flat).name).toBe('glimpse/tiny-colours');
    expect(
      prepareImport([
        file('resnet.onnx', tinyOnnx()),
        file('labels.txt', new TextEncoder().encode('red\ngreen\nblue\n')),
      ]).name,
    ).toBe('resnet');
    expect(
      prepareImport([
        file(
          'tiny.zip',
          zipSync({ 'config.json': bytes(huggingFaceFiles(LABELS).config), 'onnx/model.onnx': tinyOnnx() }),
        ),
      ]).name,
    ).toBe('tiny');
  });

  it('takes the quantized variant of several, and the one asked for', () => {
    expect(onnxVariants(['model.onnx', 'model_fp16.onnx', 'model_quantized.onnx', 'config.json'])).toEqual([
      'model_quantized.onnx',
      'model_fp16.onnx',
      'model.onnx',
    ]);
    const files = [
      ...huggingFaceFolder(tinyOnnx({ classes: 3 })),
      file('onnx/model_quantized.onnx', tinyOnnx({ classes: 3, softmax: true })),
    ];
    const chosen = prepareImport(files);
    expect(chosen.source).toBe('model_quantized.onnx');
    expect(chosen.variants).toEqual(['model_quantized.onnx', 'model.onnx']);
    expect(chosen.spec.outputIsLogits).toBe(false);
    expect(prepareImport(files, { variant: 'model.onnx' }).source).toBe('model.onnx');
    expect(() => prepareImport(files, { variant: 'model_fp16.onnx' })).toThrow(/no model_fp16\.onnx/);
  });

  it('imports a bare .onnx: labels numbered when none are given (and says so), a preset for its preprocessing', () => {
    const bare = prepareImport([file('classifier.onnx', tinyOnnx({ classes: 4 }))]);
    expect(bare.labels).toEqual(['0', '1', '2', '3']);
    expect(bare.preprocessing).toMatch(/no labels came with it: its classes are numbered 0…3/);
    expect(bare.preprocessing).toMatch(/assumed "ImageNet/);
    expect(bare.spec.normalize).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    const nhwc = prepareImport([file('tf.onnx', tinyOnnx({ layout: 'nhwc' })), file('labels.json', bytes(LABELS))], {
      preset: 'raw',
    });
    expect(nhwc.spec).toMatchObject({ layout: 'nhwc', range: [0, 255] });
    expect(nhwc.spec.normalize).toBeUndefined();
    expect(nhwc.preprocessing).toMatch(/preset "0–255"/);
  });

  it('reads sizes, crops and scales the ways Hugging Face image processors state them', () => {
    expect(
      fromPreprocessorConfig({
        size: { shortest_edge: 256 },
        do_center_crop: true,
        crop_size: { height: 224, width: 224 },
        image_mean: [0.485, 0.456, 0.406],
        image_std: [0.229, 0.224, 0.225],
      }),
    ).toMatchObject({ size: [224, 224], fit: 'crop', centralCrop: 0.875, range: [0, 1] });
    expect(
      fromPreprocessorConfig({ size: { shortest_edge: 224 }, crop_pct: 0.875, image_mean: 0.5, image_std: 0.5 }),
    ).toMatchObject({
      size: [224, 224],
      fit: 'crop',
      centralCrop: 0.875,
      normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    });
    expect(fromPreprocessorConfig({ size: 384, do_rescale: false, do_normalize: false })).toMatchObject({
      size: [384, 384],
      fit: 'squash',
      range: [0, 255],
    });
    expect(fromPreprocessorConfig({ size: { height: 32, width: 48 }, rescale_factor: 2 / 255 })).toMatchObject({
      size: [32, 48],
      range: [0, 2],
    });
    expect(() => fromPreprocessorConfig({ image_mean: [1, 2] })).toThrow(/image_mean/);
  });

  it('takes the input size from preprocessor_config.json when the model leaves it free', () => {
    const prepared = prepareImport(huggingFaceFolder(tinyOnnx({ symbolicSize: true })));
    expect(prepared.spec.inputSize).toEqual([8, 8]);
    expect(() => prepareImport([file('free.onnx', tinyOnnx({ symbolicSize: true }))])).toThrow(
      /height and width are not fixed/,
    );
  });

  it.each([
    ['two inputs', tinyOnnx({ secondInput: true }), /2 inputs \(pixel_values, mask\)/],
    ['a segmentation-style output', tinyOnnx({ spatialOutput: true }), /not class scores.*detection or segmentation/],
    [
      'external weights that are not among the files',
      tinyOnnx({ externalData: 'model.onnx_data' }),
      /model\.onnx_data \(external data\), which is not among the files/,
    ],
    [
      'external weights named by a path',
      tinyOnnx({ externalData: '../../etc/passwd' }),
      /not a plain file name beside it/,
    ],
    ['a uint8 input', tinyOnnx({ uint8Input: true }), /is uint8; Glimpse feeds float32/],
    ['a fixed batch of 4', tinyOnnx({ batch: 4 }), /batches of 4/],
    ['more outputs than labels', tinyOnnx({ classes: 5 }), /5 outputs but there are 3 labels/],
    ['a protobuf that is no model', new TextEncoder().encode('hello, this is text'), /model\.onnx/],
  ])('refuses %s with a ModelFormatError that says why', (_, model, message) => {
    let error: unknown;
    try {
      prepareImport(huggingFaceFolder(model));
    } catch (e) {
      error = e;
    }
    expect((error as Error)?.name).toBe('ModelFormatError');
    expect((error as Error).message).toMatch(message);
  });
});

describe('an imported ONNX model in the engine (onnxruntime-node in Node)', () => {
  it('loads through the verified loader and answers as the model computes it, within 1e-5', async () => {
    const prepared = prepareImport(huggingFaceFolder());
    const files = await fetchModelFiles(
      'https://glimpse.test/onnx/',
      () => undefined,
      recordFetcher(await withManifest(prepared.files)),
    );
    expect(files.format).toBe('onnx');
    const engine = await nodeEngine(files);
    expect(engine.backend).toBe('onnx-wasm');
    expect(await engine.outputLength('onnx-wasm')).toBe(3);
    for (const [colour, expected] of [
      [[230, 20, 20], 'red'],
      [[20, 200, 40], 'green'],
      [[10, 30, 220], 'blue'],
    ] as const) {
      const { predictions } = await engine.classify(solid(colour), 3);
      expect(predictions[0]!.label).toBe(expected);
      // (x / 255 − 0.5) / 0.5: the model's input for this colour.
      const input = colour.map((x) => (x / 255 - 0.5) / 0.5) as [number, number, number];
      const reference = tinyReference(input);
      for (const p of predictions) expect(Math.abs(p.probability - reference[p.index]!)).toBeLessThan(1e-5);
    }
    engine.dispose();
  });

  it('refuses tfjs backends for an ONNX model, by name', async () => {
    const files = await fetchModelFiles(
      'https://glimpse.test/onnx2/',
      () => undefined,
      recordFetcher(await withManifest(prepareImport(huggingFaceFolder()).files)),
    );
    const engine = await nodeEngine(files);
    await expect(engine.prepare('wasm')).rejects.toThrow(/ONNX model runs on ONNX Runtime/);
    expect(engine.startOrder('wasm')).toEqual(['onnx-wasm']);
    expect(
      engine.gpuCandidates([
        { backend: 'webgpu', kind: 'hardware', device: 'gpu' },
        { backend: 'webgl', kind: 'hardware', device: 'gpu' },
      ]),
    ).toEqual(['onnx-webgpu']);
    expect(engine.gpuCandidates([{ backend: 'webgpu', kind: 'software', device: 'swiftshader' }])).toEqual([]);
    engine.dispose();
  });

  it('names an operator ONNX Runtime lacks, from its own error', async () => {
    const files = await fetchModelFiles(
      'https://glimpse.test/onnx3/',
      () => undefined,
      recordFetcher(await withManifest(prepareImport(huggingFaceFolder(tinyOnnx({ unknownOp: true }))).files)),
    );
    await expect(nodeEngine(files)).rejects.toThrow(/Sparkle|com\.example\.magic/);
  });

  it('answers with what onnxruntime-node computes on the same input values, fed directly', async () => {
    const pixels = solid([200, 40, 40], 16, 16);
    const prepared = prepareImport(huggingFaceFolder());
    const session = await ort.InferenceSession.create(prepared.files['model.onnx']!, NODE_ORT_OPTIONS);
    const out = (
      await session.run({ pixel_values: new ort.Tensor('float32', modelInput(pixels, prepared.spec), [1, 3, 8, 8]) })
    ).scores!.data as Float32Array;
    await session.release();
    const engine = await nodeEngine(
      await fetchModelFiles(
        'https://glimpse.test/onnx4/',
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

  it('npm run eval loads any importable format: a Hugging Face folder, a .zip, a .tflite, a Glimpse folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glimpse-onnx-'));
    for (const f of huggingFaceFolder()) {
      mkdirSync(dirname(join(dir, f.name)), { recursive: true });
      writeFileSync(join(dir, f.name), f.bytes);
    }
    const folder = await loadModel(join(dir, 'tiny-colours'));
    expect([folder.format, folder.spec.name, folder.labels]).toEqual(['onnx', 'tiny-colours', LABELS]);
    writeFileSync(
      join(dir, 'tiny.zip'),
      zipSync({ 'tiny/config.json': bytes(huggingFaceFiles(LABELS).config), 'tiny/onnx/model.onnx': tinyOnnx() }),
    );
    expect((await loadModel(join(dir, 'tiny.zip'))).format).toBe('onnx');
    const tflite = await loadModel(join(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite'));
    expect(tflite.format).toBe('graph-model');
    expect((await loadModel('public/model/model.json')).labels).toHaveLength(1000);
  });

  it('reads external data from the files given, stores it with the model, and answers as with the weights inside', async () => {
    const folder = [
      ...huggingFaceFolder(tinyOnnx({ externalData: 'model.onnx_data' })),
      file('tiny-colours/onnx/model.onnx_data', tinyExternalData()),
    ];
    const prepared = prepareImport(folder);
    expect(Object.keys(prepared.files).sort()).toEqual([
      'labels.json',
      'metadata.json',
      'model.onnx',
      'model.onnx_data',
    ]);
    const files = await fetchModelFiles(
      'https://glimpse.test/ext/',
      () => undefined,
      recordFetcher(await withManifest(prepared.files)),
    );
    expect(files.format === 'onnx' && Object.keys(files.external)).toEqual(['model.onnx_data']);
    const inside = await nodeEngine(
      await fetchModelFiles(
        'https://glimpse.test/in/',
        () => undefined,
        recordFetcher(await withManifest(prepareImport(huggingFaceFolder()).files)),
      ),
    );
    const outside = await nodeEngine(files);
    const pixels = solid([30, 40, 200]);
    expect((await outside.classify(pixels, 3)).predictions).toEqual((await inside.classify(pixels, 3)).predictions);
    inside.dispose();
    outside.dispose();
  });
});
