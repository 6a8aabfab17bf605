import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, MAX_PENDING } from '../../model/engine';
import { liteRtRuntime } from '../../model/litert-runtime';
import { tfjsRuntime } from '../../model/tfjs-runtime';
import type { ModelFiles } from '../../model/model-files';
import { decodeImageFile } from '../../tools/node-io';
import { EXPECTED_TOP1, FIXTURES, loadShippedModel, nodeTfjs } from '../helpers/model';

let files: ModelFiles;
let engine: Engine;

beforeAll(async () => {
  files = await loadShippedModel();
  engine = new Engine(files, [nodeTfjs]);
  await engine.prepare('wasm');
  await engine.select('wasm');
}, 60_000);

describe('warm-up and timing', () => {
  it('reports the first run’s time from prepare and the median of the warm runs from time', async () => {
    const fresh = new Engine(files, [nodeTfjs]);
    // A clock the test moves: each run takes what `took` says, the real runs' times never matter.
    const took = [900, 30, 10, 20];
    let [reads, now] = [0, 0];
    const clock = vi
      .spyOn(performance, 'now')
      .mockImplementation(() => (reads++ % 2 === 0 ? now : (now += took.shift()!)));
    try {
      expect(await fresh.prepare('wasm')).toBe(900);
      expect(await fresh.time('wasm', 3)).toBe(20);
      expect(took).toEqual([]);
    } finally {
      clock.mockRestore();
      fresh.dispose();
    }
  });
});

describe('idle', () => {
  it('resolves at once with nothing queued, else only once every queued image is answered', async () => {
    await engine.idle();
    const pixels = await decodeImageFile(resolve(FIXTURES, 'cat.png'), files.spec);
    const answered: number[] = [];
    const queued = [0, 1, 2].map((i) => engine.classify(pixels, 1).then(() => answered.push(i)));
    await engine.idle();
    expect(answered).toEqual([0, 1, 2]);
    await Promise.all(queued);
  });

  it('waits for a quiet period after the last image, not only for the queue', async () => {
    const pixels = await decodeImageFile(resolve(FIXTURES, 'cat.png'), files.spec);
    await engine.classify(pixels, 1);
    const answeredAt = performance.now();
    await engine.idle(300);
    expect(performance.now() - answeredAt).toBeGreaterThanOrEqual(299);
    // Timing runs are not the user's requests: they leave the quiet period as it was.
    await engine.time('wasm', 1);
    const before = performance.now();
    await engine.idle(300);
    expect(performance.now() - before).toBeLessThan(100);
  });
});

describe('answered', () => {
  it('resolves with the first answer, well before the quiet period, and without one only after it', async () => {
    const built = performance.now();
    const fresh = new Engine(files, [nodeTfjs]);
    try {
      await fresh.prepare('wasm');
      await fresh.select('wasm');
      const started = performance.now();
      // The quiet period counts from the engine's start.
      await fresh.answered(started - built + 200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      const pixels = await decodeImageFile(resolve(FIXTURES, 'cat.png'), files.spec);
      const answer = fresh.classify(pixels, 1);
      await fresh.answered(60_000);
      // The answer is out (its promise settles in this same turn), long before the quiet period.
      await expect(
        Promise.race([answer.then(() => 'answered'), new Promise((done) => setTimeout(() => done('pending'), 0))]),
      ).resolves.toBe('answered');
    } finally {
      fresh.dispose();
    }
  });
});

describe('preload', () => {
  it('builds a LiteRT runner ahead of its trial once, and a dropped one is disposed when it arrives', async () => {
    const made: { disposed: boolean }[] = [];
    const factory = async () => {
      const runner = {
        disposed: false,
        run: async () => new Float32Array(files.labels.length + files.spec.classOffset),
        dispose: () => void (runner.disposed = true),
      };
      made.push(runner);
      return runner;
    };
    const withTflite = { ...files, tflite: async () => new Uint8Array(8) };
    const trial = new Engine(withTflite, [nodeTfjs, liteRtRuntime(factory)]);
    trial.preload('litert');
    trial.preload('litert');
    await trial.prepare('litert');
    expect(made).toHaveLength(1);
    trial.dispose();
    const dropped = new Engine(withTflite, [nodeTfjs, liteRtRuntime(factory)]);
    dropped.preload('litert');
    await dropped.drop('litert');
    await vi.waitFor(() => expect(made[1]?.disposed).toBe(true));
  });
});

describe('Engine on the shipped model (tfjs wasm in Node)', () => {
  it.each(Object.entries(EXPECTED_TOP1))('classifies %s as class %i', async (file, expected) => {
    const pixels = await decodeImageFile(resolve(FIXTURES, file), files.spec);
    const { predictions, backend } = await engine.classify(pixels, 5);
    expect(backend).toBe('wasm');
    expect(predictions).toHaveLength(5);
    expect(predictions[0]!.index).toBe(expected);
    expect(predictions[0]!.label).toBe(files.labels[expected]);
    const probabilities = predictions.map((p) => p.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
  });

  it('leaks no tensors or bytes over repeated classification', async () => {
    const pixels = await decodeImageFile(resolve(FIXTURES, 'hot_dog.jpg'), files.spec);
    await engine.classify(pixels, 5);
    const before = tf.memory();
    for (let i = 0; i < 30; i++) await engine.classify(pixels, 5);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });

  it('answers queued requests in order and refuses the overflow with BusyError', async () => {
    const tiny = { data: new Uint8Array(8 * 8 * 3).fill(128), width: 8, height: 8, channels: 3 as const };
    const calls = Array.from({ length: MAX_PENDING + 5 }, () => engine.classify(tiny, 1));
    const settled = await Promise.allSettled(calls);
    const rejected = settled.filter((s) => s.status === 'rejected');
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(MAX_PENDING);
    expect(rejected.map((r) => (r as PromiseRejectedResult).reason.name)).toEqual(Array(5).fill('BusyError'));
    // The queue drains: the next request is served.
    await expect(engine.classify(tiny, 1)).resolves.toMatchObject({ backend: 'wasm' });
  }, 60_000);

  it('reports a backend that will not start as BackendUnavailableError', async () => {
    const broken = new Engine(files, [tfjsRuntime(async () => false)]);
    await expect(broken.prepare('webgl')).rejects.toMatchObject({ name: 'BackendUnavailableError' });
    await expect(
      broken.classify({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 }, 1),
    ).rejects.toMatchObject({
      name: 'BackendUnavailableError',
    });
  });
});

describe('an explanation and the photos asked for meanwhile', () => {
  it('takes turns: a photo asked for during an explanation waits for one of its runs at most', async () => {
    // A model that answers only when the test lets it, and records what it ran.
    const ran: string[] = [];
    const gates: (() => void)[] = [];
    const runner = {
      run: (pixels: { width: number } | null) =>
        new Promise<Float32Array>((done) =>
          gates.push(() => {
            ran.push(pixels?.width === 7 ? 'photo' : 'explanation');
            done(new Float32Array(files.labels.length + files.spec.classOffset).fill(0.001));
          }),
        ),
      dispose: () => undefined,
    };
    const fake = new Engine({ ...files, tflite: async () => new Uint8Array() }, [
      nodeTfjs,
      liteRtRuntime(async () => runner),
    ]);
    const release = async () => {
      await vi.waitFor(() => expect(gates.length).toBeGreaterThan(0));
      gates.shift()!();
    };
    const prepared = fake.prepare('litert');
    await release();
    await prepared;
    await fake.select('litert');
    ran.length = 0;
    const image = { data: new Uint8ClampedArray(8 * 8 * 4), width: 8, height: 8, channels: 4 as const };
    const photo = { data: new Uint8ClampedArray(7 * 7 * 4), width: 7, height: 7, channels: 4 as const };
    // An explanation asks for one run after another, as occlusionMap does.
    const explanation = (async () => {
      for (let i = 0; i < 10; i++) await fake.probabilities(image);
    })();
    await release();
    await release();
    const answered = fake.classify(photo, 1).then(() => ran.length);
    for (let i = 0; i < 3; i++) await release();
    // The photo was queued behind the one explanation run already waiting, no more.
    expect(await answered).toBeLessThanOrEqual(4);
    expect(ran.slice(0, 4)).toContain('photo');
    while (ran.length < 11) await release();
    await explanation;
    fake.dispose();
  });
});
