import { describe, expect, it, vi } from 'vitest';
import type { LoadProgress } from '../../src/core/classifier-types';
import { isMinConfidence, isSure } from '../../src/core/predictions';
import { startBridge, type BridgeClassifier } from '../../src/lib/embed/bridge';
import { parseHostMessage, type FrameMessage } from '../../src/core/embed-protocol';
import { resultsToCsv, resultsToJson } from '../../src/lib/export-results';
import { minConfidenceFromUrl } from '../../src/lib/url-options';
import type { ImageResult } from '../../src/lib/batch.svelte';

const owl = [
  { label: 'ruffed grouse', index: 82, probability: 0.605 },
  { label: 'great grey owl', index: 24, probability: 0.2 },
];
const macaw = [{ label: 'macaw', index: 88, probability: 0.998 }];

describe('"not sure" below a minimum confidence', () => {
  it('is sure at or above the minimum, never below it, and always at 0', () => {
    expect(isSure(owl, 0)).toBe(true);
    expect(isSure(owl, 0.6)).toBe(true);
    expect(isSure(owl, 0.7)).toBe(false);
    expect(isSure(macaw, 0.7)).toBe(true);
    expect(isSure([], 0.5)).toBe(false);
    for (const bad of [-0.1, 1.1, NaN, Infinity, '0.5', null]) expect(isMinConfidence(bad)).toBe(false);
  });

  it('reads ?minConfidence= as a share, and ignores anything else', () => {
    expect(minConfidenceFromUrl('?minConfidence=0.65')).toBe(0.65);
    expect(minConfidenceFromUrl('?minConfidence=0')).toBe(0);
    for (const search of ['', '?minConfidence=', '?minConfidence=65', '?minConfidence=-1', '?minConfidence=abc'])
      expect(minConfidenceFromUrl(search)).toBeUndefined();
  });

  it('carries a sure column in the CSV and JSON exports, judged at the minimum in force', () => {
    const results: ImageResult[] = [
      {
        id: 1,
        name: 'owl.jpg',
        status: 'done',
        result: { predictions: owl, backend: 'wasm', ms: 20, memory: { tensors: 0, bytes: 0 } },
      },
      {
        id: 2,
        name: 'macaw.jpg',
        status: 'done',
        result: { predictions: macaw, backend: 'wasm', ms: 20, memory: { tensors: 0, bytes: 0 } },
      },
    ];
    const rows = resultsToCsv(results, 0.7)
      .trim()
      .split('\n')
      .map((line) => line.split(','));
    expect(rows[0]!.at(-1)).toBe('sure');
    expect(rows.slice(1).map((r) => [r[0], r.at(-1)])).toEqual([
      ['owl.jpg', 'false'],
      ['owl.jpg', 'false'],
      ['macaw.jpg', 'true'],
    ]);
    expect(JSON.parse(resultsToJson(results, 0.7)).map((r: { sure: boolean }) => r.sure)).toEqual([false, true]);
    expect(JSON.parse(resultsToJson(results)).map((r: { sure: boolean }) => r.sure)).toEqual([true, true]);
  });

  it('takes minConfidence in the postMessage API: a bad one is a bad request, a good one answers with sure', async () => {
    const image = new ArrayBuffer(8);
    expect(parseHostMessage({ glimpse: 1, type: 'classify', id: 'm', image, minConfidence: 0.5 })).toEqual({
      ok: true,
      message: { glimpse: 1, type: 'classify', id: 'm', image, minConfidence: 0.5 },
    });
    for (const minConfidence of [2, -1, '0.5', null])
      expect(parseHostMessage({ glimpse: 1, type: 'classify', id: 'm', image, minConfidence })).toEqual({
        ok: false,
        id: 'm',
      });

    const sent: FrameMessage[] = [];
    let listener: ((event: MessageEvent) => void) | null = null;
    const parent = { postMessage: (message: FrameMessage) => sent.push(message) };
    const win = {
      parent,
      location: { ancestorOrigins: ['https://host.example'] },
      document: { referrer: '' },
      addEventListener: (_: string, fn: (event: MessageEvent) => void) => (listener = fn),
      glimpseEarlyMessages: () => [],
    };
    const classifier: BridgeClassifier = {
      loaded: async () => ({
        model: { id: 'builtin', name: 'm', version: '0123456789abcdef', classes: 2 },
        backend: 'wasm',
      }),
      subscribe: (_: (event: LoadProgress) => void) => undefined,
      classifyImage: async () => ({ predictions: owl, backend: 'wasm', ms: 5, memory: { tensors: 0, bytes: 0 } }),
    };
    // The frame's own minimum (embed.html?minConfidence=0.9) applies where a request names none.
    startBridge(win as unknown as Window, '*', classifier, 0.9);
    const deliver = (data: unknown) =>
      listener!({ data, origin: 'https://host.example', source: parent } as unknown as MessageEvent);
    deliver({ glimpse: 1, type: 'classify', id: 'strict', image });
    deliver({ glimpse: 1, type: 'classify', id: 'lenient', image, minConfidence: 0.5 });
    await vi.waitFor(() => expect(sent.filter((m) => m.type === 'result')).toHaveLength(2));
    const results = sent.filter((m): m is Extract<FrameMessage, { type: 'result' }> => m.type === 'result');
    expect(results.map((m) => [m.id, m.sure])).toEqual([
      ['strict', false],
      ['lenient', true],
    ]);
    expect(results[0]!.predictions).toEqual(owl);
  });
});
