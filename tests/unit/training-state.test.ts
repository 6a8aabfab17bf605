import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrainEvent, TrainImageInput, TrainSummary } from '../../src/core/classifier-types';
import type { TrainOptions } from '../../src/core/train-options';

/**
 * The worker's progress events travel on the callback's own MessagePort, its result on the
 * worker's: the last epoch's event can land after the result. Here the fake worker sends it so.
 */
const fake = vi.hoisted(() => ({
  train: null as
    | null
    | ((onProgress: (event: TrainEvent) => void, images: TrainImageInput[], options: TrainOptions) => Promise<unknown>),
}));
vi.mock('../../src/lib/classifier.svelte', () => ({
  classifier: {
    train: (images: TrainImageInput[], options: TrainOptions, onProgress: (event: TrainEvent) => void) =>
      fake.train!(onProgress, images, options),
  },
}));

const { training } = await import('../../src/lib/training.svelte');

const epoch = (n: number) => ({ epoch: n, loss: 1 / n, accuracy: 0.5, valLoss: 1 / n, valAccuracy: 0.5 });
const summary = {
  history: [epoch(1), epoch(2)],
  valAccuracy: 0.5,
  keys: ['k1', 'k2'],
  review: [],
} as unknown as TrainSummary;
const file = (name: string) => new File([new Uint8Array(8)], name, { type: 'image/png' });

describe('the Train view’s run', () => {
  beforeEach(() => {
    training.images = [
      { id: 1, file: file('a.png'), label: 'a' },
      { id: 2, file: file('b.png'), label: 'b' },
    ];
  });

  it('stays done when the last epoch’s progress event arrives after the result, with the result’s whole history', async () => {
    let late: () => void = () => undefined;
    fake.train = async (onProgress) => {
      onProgress({ phase: 'features', done: 2, total: 2 });
      onProgress({ phase: 'training', ...epoch(1) });
      late = () => onProgress({ phase: 'training', ...epoch(2) });
      return summary;
    };
    await training.start();
    late();
    expect(training.state).toBe('done');
    expect(training.history).toEqual(summary.history);
  });

  it('stays failed when an event arrives after the error', async () => {
    let late: () => void = () => undefined;
    fake.train = async (onProgress) => {
      late = () => onProgress({ phase: 'training', ...epoch(1) });
      throw Object.assign(new Error('training was cancelled'), { name: 'CancelledError' });
    };
    await training.start();
    late();
    expect(training.state).toBe('error');
  });
});

describe('the Train view’s review loop', () => {
  const photos = () => [
    { id: 1, file: file('cat-1.png'), label: 'cat' },
    { id: 2, file: file('cat-2.png'), label: 'cat' },
    { id: 3, file: file('stray.png'), label: 'cat' },
    { id: 4, file: file('dog-1.png'), label: 'dog' },
    { id: 5, file: file('dog-2.png'), label: 'dog' },
    { id: 6, file: file('broken.png'), label: 'dog' },
  ];
  /** The worker's answer: every photo reviewed (as nearest neighbour does), the stray answered "dog", the broken one refused. */
  const run = (onProgress: (event: TrainEvent) => void, images: TrainImageInput[]) => {
    onProgress({ phase: 'refused', index: 5, error: { name: 'NotAnImageError', message: 'the file is not an image' } });
    return Promise.resolve({
      ...summary,
      labels: ['cat', 'dog'],
      keys: images.map((_, i) => (i === 5 ? undefined : `key-${i}`)),
      review: [
        { index: 0, predicted: 0, confidence: 0.9 },
        { index: 1, predicted: 0, confidence: 0.6 },
        { index: 2, predicted: 1, confidence: 0.8 },
        { index: 3, predicted: 1, confidence: 0.95 },
        { index: 4, predicted: 0, confidence: 0.55 },
      ],
    });
  };

  it('lists the wrong answers first (most confident first), then the least sure right ones; moves and drops in place; retrains without reading a photo twice', async () => {
    training.images = photos();
    expect(training.resolvedMethod()).toBe('nearest');
    fake.train = run;
    await training.start();
    expect(training.images.find((i) => i.id === 6)!.error).toMatchObject({ name: 'NotAnImageError' });
    expect(training.doubtful().map((i) => [i.image.file.name, i.truth, i.predicted])).toEqual([
      ['stray.png', 'cat', 'dog'],
      ['dog-2.png', 'dog', 'cat'],
      ['cat-2.png', 'cat', 'cat'],
      ['cat-1.png', 'cat', 'cat'],
      ['dog-1.png', 'dog', 'dog'],
    ]);
    training.move(3, 'dog');
    training.remove(5);
    const now = training.reviewItems().map((i) => [i.image.file.name, i.image.label, i.truth]);
    expect(now).toContainEqual(['stray.png', 'dog', 'cat']);
    expect(now.map(([name]) => name)).not.toContain('dog-2.png');
    expect(training.curated().map((p) => [p.file.name, p.label])).toEqual([
      ['cat-1.png', 'cat'],
      ['cat-2.png', 'cat'],
      ['stray.png', 'dog'],
      ['dog-1.png', 'dog'],
    ]);
    let sent: TrainImageInput[] = [];
    fake.train = (_, images) => ((sent = images), Promise.resolve({ ...summary, keys: images.map((i) => i.key) }));
    await training.start();
    expect(sent.map((i) => [(i.data as File).name, i.label, i.key])).toEqual([
      ['cat-1.png', 'cat', 'key-0'],
      ['cat-2.png', 'cat', 'key-1'],
      ['stray.png', 'dog', 'key-2'],
      ['dog-1.png', 'dog', 'key-3'],
    ]);
  });

  it('chooses a trained head automatically once a class has enough photos, and keeps an explicit choice', () => {
    training.method = 'auto';
    training.images = Array.from({ length: 20 }, (_, i) => ({
      id: 100 + i,
      file: file(`p${i}.png`),
      label: i < 10 ? 'a' : 'b',
    }));
    expect(training.resolvedMethod()).toBe('head');
    training.method = 'nearest';
    expect(training.resolvedMethod()).toBe('nearest');
    training.method = 'auto';
  });
});
