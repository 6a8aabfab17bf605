import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ImageHeader } from '../../src/core/image-header';

/**
 * A photo's preview is decoded and painted again on the page: shown while the worker runs the
 * model, that work slowed the run it overlapped. The preview comes with the answer, or after
 * a short wait when the answer is slow, once either way, and next to an error too.
 */
const fake = vi.hoisted(() => ({ classify: null as null | (() => Promise<unknown>), events: [] as string[] }));
vi.mock('comlink', () => ({
  wrap: () => ({ classify: () => (fake.events.push('classify'), fake.classify!()) }),
  proxy: <T>(value: T) => value,
  transfer: <T>(value: T) => value,
}));
vi.mock('../../src/lib/decode', () => ({
  decodeImage: async () => ({ bitmap: { close() {} }, header: { mime: 'image/png', width: 8, height: 8 } }),
  checkBitmap: <T>(bitmap: T) => bitmap,
}));
vi.stubGlobal('Worker', class {});

const { classifier } = await import('../../src/lib/classifier.svelte');
const photo = new File([new Uint8Array(8)], 'a.png', { type: 'image/png' });
const result = { predictions: [], backend: 'wasm', ms: 20, memory: { tensors: 0, bytes: 0 } };
const checked = (header: ImageHeader) => void fake.events.push(`checked ${header.mime}`);

describe('a photo’s preview', () => {
  afterEach(() => {
    fake.events = [];
    vi.useRealTimers();
  });

  it('is shown once its answer has come, not while the model runs', async () => {
    fake.classify = async () => (fake.events.push('answered'), result);
    await expect(classifier.classifyImage(photo, 5, checked)).resolves.toEqual(result);
    expect(fake.events).toEqual(['classify', 'answered', 'checked image/png']);
  });

  it('is shown after a short wait when the answer is slow, and only once', async () => {
    vi.useFakeTimers();
    let answer: (value: unknown) => void = () => undefined;
    fake.classify = () => new Promise((done) => (answer = done));
    const classified = classifier.classifyImage(photo, 5, checked);
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.events).toEqual(['classify']);
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.events).toEqual(['classify', 'checked image/png']);
    answer(result);
    await classified;
    expect(fake.events).toEqual(['classify', 'checked image/png']);
  });

  it('is shown next to an error too', async () => {
    fake.classify = async () => Promise.reject(Object.assign(new Error('out of memory'), { name: 'InferenceError' }));
    await expect(classifier.classifyImage(photo, 5, checked)).rejects.toThrow('out of memory');
    expect(fake.events).toEqual(['classify', 'checked image/png']);
  });
});
