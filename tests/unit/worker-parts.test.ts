import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Pixels } from '../../src/core/model-input';
import type { PreparedModel } from '../../model/prepared-model';
import { fileFetch, decodeImageFile } from '../../tools/node-io';
import { EXPECTED_TOP1, FIXTURES, MODEL_DIR, ROOT } from '../helpers/model';

/**
 * The classifier worker's parts (active model, model library, training run) in Node, through the API
 * the page calls: the built-in model on tfjs-wasm, an imported model on a fake LiteRT runner, and
 * in-memory stores in place of IndexedDB. A "bitmap" here carries its decoded pixels.
 */

type FakeBitmap = ImageBitmap & { pixels: Pixels };

const stored = new Map<string, unknown>();
vi.mock('../../workers/backends', async () => {
  const { nodeActivate } = await import('../../tools/node-model');
  return { activate: (backend: string) => nodeActivate(backend), probeGpus: async () => [] };
});
vi.mock('../../workers/pixels', () => ({ bitmapToPixels: (bitmap: FakeBitmap) => bitmap.pixels }));
vi.mock('../../workers/calibration-store', () => ({
  storedTemperature: async (version: string) => stored.get(`t:${version}`) as number | undefined,
  storeTemperature: async (version: string, t: number | null) => void stored.set(`t:${version}`, t ?? undefined),
}));
vi.mock('../../workers/choice-memory', () => ({
  deviceMemory: () => ({
    recall: async () => undefined,
    remember: async () => undefined,
    forget: async () => undefined,
  }),
}));
vi.mock('../../workers/litert-wasm', () => ({ startLiteRtDownload: () => undefined }));
/** LiteRT, faked: the first class's score is the image's mean brightness, the second's its darkness. */
vi.mock('../../workers/litert', () => ({
  startRuntime: async () => 1,
  LiteRtRunner: {
    create: async () => ({
      run: async (pixels: Pixels | null) => {
        if (!pixels) return Float32Array.from([0.5, 0.5]);
        let sum = 0;
        for (let i = 0; i < pixels.data.length; i += pixels.channels) sum += pixels.data[i]!;
        const bright = sum / (pixels.data.length / pixels.channels) / 255;
        return Float32Array.from([bright, 1 - bright]);
      },
      dispose: () => undefined,
    }),
  },
}));
vi.mock('../../workers/model-store', async () => {
  const { withManifest, recordFetcher } = await import('../../model/model-records');
  const models = new Map<string, { entry: Record<string, unknown>; files: Record<string, Uint8Array> }>();
  let active = 'builtin';
  return {
    listModels: async () => [...models.values()].map((m) => m.entry),
    activeModel: async () => active,
    setActiveModel: async (id: string) => void (active = id),
    saveModel: async (prepared: PreparedModel, source: string) => {
      const { version, files } = await withManifest(prepared.files);
      const entry = {
        id: version,
        name: prepared.name,
        format: prepared.format,
        source,
        classes: prepared.labels.length,
        preprocessing: prepared.preprocessing,
      };
      models.set(version, { entry, files });
      return entry;
    },
    deleteModel: async (id: string) => void models.delete(id),
    storedFetcher: async (id: string) => recordFetcher(models.get(id)!),
    storedFiles: async (id: string) => models.get(id)?.files,
  };
});

const { api } = await import('../../workers/api');

/** A grey image of the given brightness, or a fixture photo, as the worker receives either. */
const bitmapOf = (pixels: Pixels) =>
  ({ width: pixels.width, height: pixels.height, close: () => undefined, pixels }) as FakeBitmap;
const grey = (value: number, size = 64): Pixels => ({
  data: new Uint8ClampedArray(size * size * 4).fill(value),
  width: size,
  height: size,
  channels: 4,
});

/** A LiteRT-only model of two classes, as the import worker hands it over. */
function brightnessModel(): PreparedModel {
  const metadata = { format: 'tflite', name: 'bright or dark', input: { shape: [1, 32, 32, 3], range: [0, 1] } };
  return {
    name: 'bright or dark',
    format: 'tflite',
    source: 'test',
    spec: undefined as never,
    labels: ['bright', 'dark'],
    preprocessing: 'test',
    files: {
      'model.tflite': new Uint8Array([1, 2, 3]),
      'metadata.json': new TextEncoder().encode(JSON.stringify(metadata)),
      'labels.json': new TextEncoder().encode(JSON.stringify(['bright', 'dark'])),
    },
  };
}

describe('the worker parts, with fakes for the browser', () => {
  let parrot: Pixels;
  beforeAll(async () => {
    vi.stubGlobal('fetch', fileFetch);
    vi.stubGlobal('self', { location: new URL('https://glimpse.test/app/'), crossOriginIsolated: false });
    vi.stubGlobal('navigator', { userAgent: 'node', hardwareConcurrency: 2 });
    const info = await api.load(pathToFileURL(`${MODEL_DIR}/`).href, () => undefined, { backend: 'wasm' });
    expect(info.model.id).toBe('builtin');
    parrot = await decodeImageFile(resolve(FIXTURES, 'parrot.jpg'), info.model as never);
  }, 60_000);

  it('the active model answers, and calibrating it changes its confidence, not its answer, until it is forgotten', async () => {
    const first = await api.classify(bitmapOf(parrot), 3);
    expect(first.predictions[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
    const calibrated = await api.calibrate(3);
    expect(calibrated.model.temperature).toBe(3);
    const softer = await api.classify(bitmapOf(parrot), 3);
    expect(softer.predictions[0]!.index).toBe(first.predictions[0]!.index);
    expect(softer.predictions[0]!.probability).toBeLessThan(first.predictions[0]!.probability);
    await expect(api.calibrate(1e6)).rejects.toMatchObject({ name: 'BadRequestError' });
    expect((await api.calibrate(null)).model.temperature).toBe(1);
    expect((await api.classify(bitmapOf(parrot), 1)).predictions[0]!.probability).toBeCloseTo(
      first.predictions[0]!.probability,
      5,
    );
  });

  it('an imported model is tried, stored and made active; deleting it brings the built-in one back', async () => {
    const steps: string[] = [];
    const info = await api.importModel(brightnessModel(), 'bright.tflite', (step) => void steps.push(step));
    expect(steps).toEqual(['trial', 'storing', 'warming']);
    expect(info).toMatchObject({ backend: 'litert', model: { name: 'bright or dark', classes: 2 } });
    expect((await api.classify(bitmapOf(grey(230)), 1)).predictions[0]!.label).toBe('bright');
    expect((await api.classify(bitmapOf(grey(20)), 1)).predictions[0]!.label).toBe('dark');
    expect((await api.models()).map((m) => m.name)).toEqual(['bright or dark']);

    // Explain: the bright half of a half-bright image is where "bright" comes from.
    const half = grey(0, 64);
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 32; x++) half.data.fill(255, (y * 64 + x) * 4, (y * 64 + x) * 4 + 4);
    const map = await api.explain(bitmapOf(half), 0);
    expect(map.peak.x).toBeLessThan(0.5);

    const back = await api.deleteModel(info.model.id);
    expect(back.model.id).toBe('builtin');
    expect(await api.models()).toEqual([]);
    expect((await api.classify(bitmapOf(parrot), 1)).predictions[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
  });

  it("training stages photos, trains on the built-in model's features, and its model is used like any other", async () => {
    const photo = (file: string) => new Blob([readFileSync(resolve(FIXTURES, file))]);
    const decoded = new Map<Blob, Pixels>();
    for (const [file, label] of [
      ['parrot.jpg', 'parrot'],
      ['bird.png', 'parrot'],
      ['cat.png', 'cat'],
      ['hot_dog.jpg', 'cat'],
    ] as const) {
      const blob = photo(file);
      decoded.set(blob, await decodeImageFile(resolve(FIXTURES, file), (await api.info()).model as never));
      api.stageTraining([{ data: blob, label }], decoded.size === 1);
    }
    vi.stubGlobal('createImageBitmap', async (blob: Blob) => bitmapOf(decoded.get(blob)!));
    const phases = new Set<string>();
    const summary = await api.train({ method: 'nearest' }, (event) => void phases.add(event.phase));
    expect(phases).toEqual(new Set(['features']));
    expect(summary).toMatchObject({ method: 'nearest', labels: ['cat', 'parrot'], split: { train: 4 } });
    expect(summary.review.map((r) => r.side)).toEqual(['training', 'training', 'training', 'training']);
    const used = await api.useTrained();
    expect(used.model).toMatchObject({ name: 'nearest: cat, parrot', classes: 3, features: 'base' });
    expect((await api.classify(bitmapOf(parrot), 1)).predictions[0]!.label).toBe('parrot');
  });

  it('makes a smaller model of the active one: a student taught on unlabelled photos, stored and used like any model', async () => {
    const { prepareImport } = await import('../../model/model-import');
    const { STUDENTS, DEFAULT_STUDENT } = await import('../../src/core/students');
    const file = STUDENTS[DEFAULT_STUDENT].file;
    const student = () => prepareImport([{ name: file, bytes: readFileSync(resolve(ROOT, 'public/students', file)) }]);
    await api.useModel('builtin');
    const spec = (await api.info()).model as never;
    const decoded = new Map<Blob, Pixels>();
    // Ten photos: the five fixtures and their mirror images.
    for (const name of Object.keys(EXPECTED_TOP1)) {
      const pixels = await decodeImageFile(resolve(FIXTURES, name), spec);
      const mirrored = { ...pixels, data: new Uint8ClampedArray(pixels.data.length) };
      for (let y = 0; y < pixels.height; y++)
        for (let x = 0; x < pixels.width; x++) {
          const from = (y * pixels.width + x) * pixels.channels;
          const to = (y * pixels.width + pixels.width - 1 - x) * pixels.channels;
          mirrored.data.set(pixels.data.subarray(from, from + pixels.channels), to);
        }
      for (const p of [pixels, mirrored]) decoded.set(new Blob([readFileSync(resolve(FIXTURES, name))]), p);
    }
    const blobs = [...decoded.keys()];
    vi.stubGlobal('createImageBitmap', async (blob: Blob) => bitmapOf(decoded.get(blob)!));

    api.stageTraining(
      blobs.slice(0, 9).map((data) => ({ data, label: '' })),
      true,
    );
    await expect(api.distill(student(), { classes: [] }, () => undefined)).rejects.toMatchObject({
      name: 'BadRequestError',
    });
    api.stageTraining([{ data: blobs[9]!, label: '' }], false);
    await expect(api.distill(student(), { classes: ['no such class'] }, () => undefined)).rejects.toMatchObject({
      name: 'BadRequestError',
    });

    const kept = [EXPECTED_TOP1['parrot.jpg']!, EXPECTED_TOP1['hot_dog.jpg']!];
    const phases: string[] = [];
    const summary = await api.distill(student(), { classes: kept.map(String) }, (e) => void phases.push(e.phase));
    expect(phases.filter((p) => p === 'photos')).toHaveLength(10);
    expect(phases.at(-1)).toBe('storing');
    expect(summary.classes).toHaveLength(3);
    expect(summary.classes.at(-1)).toBe('other');
    expect(summary.photos).toMatchObject({ heldOut: 2, refused: 0 });
    expect(summary.photos.train + summary.photos.validation + summary.photos.heldOut).toBe(10);
    expect(summary.agreement).toBeGreaterThanOrEqual(0);
    expect(summary.agreement).toBeLessThanOrEqual(1);
    expect(summary.ms.student).toBeGreaterThan(0);
    expect(summary.teacher.id).toBe('builtin');
    expect((await api.models()).map((m) => m.id)).toContain(summary.model.id);

    // The student answers in its own classes, with the teacher's answer for the photos it learned from.
    const used = await api.useModel(summary.model.id);
    expect(used.model).toMatchObject({ id: summary.model.id, classes: 3, inputSize: [128, 128] });
    const answer = await api.classify(bitmapOf(decoded.get(blobs[0]!)!), 3);
    expect(answer.predictions.map((p) => p.label).sort()).toEqual([...summary.classes].sort());
    await api.useModel('builtin');
    await api.deleteModel(summary.model.id);

    // A teacher on another engine (the LiteRT-only model, faked: bright or dark) teaches the tfjs student too.
    const greys = Array.from({ length: 10 }, () => new Blob([readFileSync(resolve(FIXTURES, 'bird.png'))]));
    greys.forEach((blob, i) => decoded.set(blob, grey(20 + 23 * i)));
    api.stageTraining(
      greys.map((data) => ({ data, label: '' })),
      true,
    );
    const litert = await api.importModel(brightnessModel(), 'bright.tflite');
    const bright = await api.distill(student(), { classes: [] }, () => undefined);
    expect(bright.ms).toMatchObject({ teacherBackend: 'litert', studentBackend: 'wasm' });
    expect(bright.classes).toEqual(['bright', 'dark']);
    expect(bright.teacher).toMatchObject({ id: litert.model.id, name: 'bright or dark' });
    await api.deleteModel(litert.model.id);
    await api.deleteModel(bright.model.id);

    // Cancelled while the photos are read: nothing is stored.
    const cancelled = api.distill(student(), { classes: [] }, (e) => {
      if (e.phase === 'photos') api.cancelDistill();
    });
    await expect(cancelled).rejects.toMatchObject({ name: 'CancelledError' });
    expect((await api.models()).map((m) => m.id)).not.toContain(summary.model.id);
  }, 120_000);
});
