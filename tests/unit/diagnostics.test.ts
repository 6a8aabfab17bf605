import { describe, expect, it, vi } from 'vitest';
import type { ModelInfo } from '../../src/core/classifier-types';
import { diagnostics } from '../../src/lib/diagnostics.svelte';

vi.stubGlobal('navigator', { hardwareConcurrency: 2, userAgent: 'test' });

const info = (id: string, name: string): ModelInfo => ({
  model: {
    id,
    name,
    version: 'v1',
    classes: 3,
    inputSize: [224, 224],
    range: [-1, 1],
    fit: 'crop',
    crop: 0.875,
    normalize: null,
    temperature: 1,
    features: 'own',
    color: 'rgb',
  },
  backend: 'wasm',
  choice: { backend: 'wasm', reason: 'forced', timings: {}, skipped: {} },
  problem: null,
});

/** The diagnostics report promises no image, no file name and no label. */
describe('the diagnostics report', () => {
  it('names the site’s own model, and withholds the name of the user’s (made of their labels or file names)', () => {
    expect(diagnostics.report(info('builtin', 'mobilenet-v2'), null).model!.name).toBe('mobilenet-v2');
    for (const [id, name] of [
      ['a1b2', 'trained: cat, hotdog, parrot'],
      ['c3d4', 'my-private-photos-classifier'],
    ]) {
      const report = JSON.stringify(diagnostics.report(info(id!, name!), null));
      expect(report).not.toContain(name!.split(' ').at(-1));
      expect(JSON.parse(report).model).toEqual({ name: 'your own model (name withheld)', version: 'v1', classes: 3 });
    }
  });
});
