import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { isTemperature } from '../../src/core/calibration';
import { checkTrialOutputs, probeImages, trialModel } from '../../src/core/model-trial';
import { readOnnx } from '../../src/core/onnx-reader';
import { parseMinConfidence } from '../../src/core/predictions';
import { fetchModelFiles } from '../../model/model-files';
import { prepareImport } from '../../model/model-import';
import type { ImportFile } from '../../model/prepared-model';
import { recordFetcher, withManifest } from '../../model/model-records';
import { nodeEngine, NODE_ORT_OPTIONS } from '../../tools/node-model';
import { declaredOnnx, hostileOnnx, huggingFaceFiles, nestedIfOnnx, tinyOnnx } from '../helpers/onnx-files';

/** Issue 33: every count checked before anything is made from it, honest trials, stored settings checked as they are read. */

const LABELS = ['red', 'green', 'blue'];
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const file = (name: string, bytes: Uint8Array): ImportFile => ({ name, bytes });

function folder(model: Uint8Array, preprocessor: Record<string, unknown> = {}, labels = true): ImportFile[] {
  const { config, preprocessor: base } = huggingFaceFiles(LABELS);
  return [
    ...(labels ? [file('config.json', json(config))] : []),
    file('preprocessor_config.json', json({ ...base, ...preprocessor })),
    file('model.onnx', model),
  ];
}

/** What an import costs: its time and how much the heap grew. */
function measured(work: () => unknown): { ms: number; heapMb: number; error: unknown } {
  const [start, heap] = [performance.now(), process.memoryUsage().heapUsed];
  let error: unknown = null;
  try {
    work();
  } catch (caught) {
    error = caught;
  }
  return { ms: performance.now() - start, heapMb: (process.memoryUsage().heapUsed - heap) / 1024 ** 2, error };
}

describe('counts checked before anything is allocated from them', () => {
  it('refuses a model declaring 10⁸ or 4×10⁸ classes at once, before making a label for each', () => {
    for (const classes of [100_000_000, 400_000_000]) {
      const { ms, heapMb, error } = measured(() =>
        prepareImport([file('model.onnx', declaredOnnx({ outputDims: [1, classes] }))]),
      );
      expect(error).toMatchObject({
        name: 'ModelFormatError',
        message: expect.stringContaining(`${classes} classes, where a model has 1 to 50000`),
      });
      expect(ms).toBeLessThan(1_000);
      expect(heapMb).toBeLessThan(50);
    }
  });

  it('reads a dimension of -1 as a free one: a batch of -1 is a free batch, an output of -1 needs labels', () => {
    expect(readOnnx(declaredOnnx({ inputDims: [-1, 3, 8, 8], outputDims: [1, -1] })).inputs[0]!.dims).toEqual([
      null,
      3,
      8,
      8,
    ]);
    const prepared = prepareImport(folder(declaredOnnx({ inputDims: [-1, 3, 8, 8], outputDims: [-1, 3] })));
    expect(prepared.labels).toEqual(LABELS);
    expect(() => prepareImport([file('model.onnx', declaredOnnx({ outputDims: [1, -1] }))])).toThrow(
      expect.objectContaining({
        name: 'ModelFormatError',
        message: expect.stringMatching(/number of classes is not fixed/),
      }),
    );
  });

  it('names an input side out of range instead of saying no size is given', () => {
    expect(() => prepareImport(folder(declaredOnnx({ inputDims: [1, 3, 1_000_000, 8] })))).toThrow(
      /an image side of 1000000 pixels/,
    );
  });

  it('counts the nodes inside If branches towards the limit, refusing 10⁶ of them quickly', () => {
    const big = nestedIfOnnx({ nodes: 1_000_000 });
    const { ms, error } = measured(() => readOnnx(big));
    expect(error).toMatchObject({
      name: 'ModelFormatError',
      message: expect.stringContaining('over 200000 nodes, initializers and values (subgraphs included)'),
    });
    expect(ms).toBeLessThan(5_000);
    expect(readOnnx(nestedIfOnnx({ depth: 3, nodes: 10 })).nodes.map((n) => n.opType)).toEqual([
      'GlobalAveragePool',
      'Flatten',
      'Gemm',
      'If',
    ]);
  });

  it('refuses subgraphs nested over 16 deep, and finds external data named inside one', () => {
    expect(() => readOnnx(nestedIfOnnx({ depth: 17 }))).toThrow(/subgraphs nested over 16 deep/);
    expect(readOnnx(nestedIfOnnx({ depth: 2, external: 'far.bin' })).externalFiles).toEqual(['far.bin']);
    expect(() => prepareImport(folder(nestedIfOnnx({ depth: 2, external: 'far.bin' })))).toThrow(
      /far\.bin \(external data\), which is not among the files/,
    );
  });
});

describe('errors that point at the file that is wrong', () => {
  it.each([
    [
      'a rescale_factor of 1e308',
      { rescale_factor: 1e308 },
      /preprocessor_config\.json: rescale_factor must be a number above 0/,
    ],
    ['a rescale_factor of 0', { rescale_factor: 0 }, /preprocessor_config\.json: rescale_factor/],
    [
      'an image_std of 0',
      { image_std: [0, 0.5, 0.5] },
      /preprocessor_config\.json: image_std must be three numbers above 0/,
    ],
    [
      'a size of 100000',
      { size: { height: 100_000, width: 100_000 } },
      /preprocessor_config\.json: size\.height is 100000: a size is 1 to 4096 pixels/,
    ],
  ])(
    '%s is blamed on preprocessor_config.json, never on a metadata.json the user never gave',
    (_, preprocessor, message) => {
      expect(() => prepareImport(folder(tinyOnnx({ symbolicSize: true }), preprocessor))).toThrow(message);
      expect(() => prepareImport(folder(tinyOnnx({ symbolicSize: true }), preprocessor))).not.toThrow(/metadata\.json/);
    },
  );
});

describe('the import trial', () => {
  it('runs on images that look like use, none of which has a mean red of 52–76 (the band the hostile test models wake on)', () => {
    const probes = probeImages({ inputSize: [8, 8] });
    expect(probes).toHaveLength(6);
    for (const probe of probes) {
      expect([probe.width, probe.height, probe.data.length]).toEqual([8, 8, 256]);
      let red = 0;
      for (let i = 0; i < probe.data.length; i += 4) red += probe.data[i]!;
      const mean = red / 64;
      expect(mean < 52 || mean > 76, `mean red ${mean}`).toBe(true);
    }
    // The bright-pixel model (issue 33's) wakes on the white one: the trial now sees what a photo would show it.
    expect(probes.some((p) => p.data.some((v, i) => i % 4 !== 3 && v > 0.75 * 255))).toBe(true);
  });

  it('refuses outputs of the wrong length, NaN or infinite, or the same for every image', () => {
    const varied = [new Float32Array([1, 2, 3]), new Float32Array([3, 2, 1])];
    expect(() => checkTrialOutputs(varied, 3)).not.toThrow();
    expect(() => checkTrialOutputs(varied, 4)).toThrow(/answers with 3 numbers, but it has 4 labels/);
    expect(() => checkTrialOutputs([...varied, new Float32Array([NaN, 0, 0])], 3)).toThrow(/not finite/);
    expect(() => checkTrialOutputs([...varied, new Float32Array([Infinity, 0, 0])], 3)).toThrow(/not finite/);
    expect(() =>
      checkTrialOutputs([new Float32Array([1, 2, 3]), new Float32Array([1, 2, 3]), new Float32Array([1, 2, 3])], 3),
    ).toThrow(/same scores for each of 3 different test images/);
  });

  async function trialOf(files: ImportFile[]): Promise<void> {
    const prepared = prepareImport(files);
    const engine = await nodeEngine(
      await fetchModelFiles(
        'https://glimpse.test/trial/',
        () => undefined,
        recordFetcher(await withManifest(prepared.files)),
      ),
    );
    await trialModel(
      (pixels) => engine.trialRun('wasm', pixels),
      prepared.spec,
      prepared.labels.length,
      prepared.spec.classOffset,
    );
  }

  it('passes a real classifier and refuses one whose preprocessing makes every score NaN (image_mean 1e308, image_std 1e-300)', async () => {
    await expect(trialOf(folder(tinyOnnx()))).resolves.toBeUndefined();
    await expect(trialOf(folder(tinyOnnx(), { image_mean: [1e308, 1e308, 1e308] }))).rejects.toThrow(/not finite/);
    await expect(trialOf(folder(tinyOnnx(), { image_std: [1e-300, 1e-300, 1e-300] }))).rejects.toThrow(/not finite/);
  });

  it('lets through a model that wakes only on a band of red none of its images has: what the run watchdog is for', async () => {
    await expect(trialOf(folder(hostileOnnx({ trigger: 'red-band', attack: 'hang' })))).resolves.toBeUndefined();
    // The hostile model is real: onnxruntime-node runs it, and it loops only when woken.
    const session = await ort.InferenceSession.create(
      hostileOnnx({ trigger: 'bright-pixel', attack: 'hang' }),
      NODE_ORT_OPTIONS,
    );
    const asleep = await session.run({
      pixel_values: new ort.Tensor('float32', new Float32Array(192).fill(-1), [1, 3, 8, 8]),
    });
    expect(asleep.scores!.dims).toEqual([1, 3]);
    await session.release();
  });
});

describe('stored settings checked as they are read', () => {
  it('takes a minimum confidence only as a decimal share or a percentage', () => {
    for (const [text, value] of [
      ['0.6', 0.6],
      ['.5', 0.5],
      ['1', 1],
      ['0', 0],
      ['60%', 0.6],
      [' 0.25 ', 0.25],
      ['100%', 1],
    ] as const)
      expect(parseMinConfidence(text), text).toBe(value);
    for (const text of [
      '0x1',
      '1e0',
      '1e-1',
      'Infinity',
      'NaN',
      '-0.1',
      '1.5',
      '150%',
      '',
      'abc',
      '0.5.5',
      null,
      undefined,
    ])
      expect(parseMinConfidence(text), String(text)).toBeUndefined();
  });

  it('applies only a temperature in range, whatever the store holds', () => {
    for (const t of [0.1, 1, 2.5, 10]) expect(isTemperature(t)).toBe(true);
    for (const t of [-1, 0, NaN, 1e308, '1.5', null, undefined, 0.05, 11])
      expect(isTemperature(t), String(t)).toBe(false);
  });
});
