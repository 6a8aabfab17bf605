import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrainEvent, TrainSummary } from '../../src/core/classifier-types';

/**
 * The worker's progress events travel on the callback's own MessagePort, its result on the
 * worker's: the last epoch's event can land after the result. Here the fake worker sends it so.
 */
const fake = vi.hoisted(() => ({ train: null as null | ((onProgress: (event: TrainEvent) => void) => Promise<unknown>) }));
vi.mock('../../src/lib/classifier.svelte', () => ({
  classifier: { train: (_images: unknown, _options: unknown, onProgress: (event: TrainEvent) => void) => fake.train!(onProgress) },
}));

const { training } = await import('../../src/lib/training.svelte');

const epoch = (n: number) => ({ epoch: n, loss: 1 / n, accuracy: 0.5, valLoss: 1 / n, valAccuracy: 0.5 });
const summary = { history: [epoch(1), epoch(2)], valAccuracy: 0.5 } as unknown as TrainSummary;
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
