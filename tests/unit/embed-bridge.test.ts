import { describe, expect, it, vi } from 'vitest';
import type { LoadProgress } from '../../src/core/classifier-types';
import { startBridge, type BridgeClassifier } from '../../src/lib/embed/bridge';
import { EMBED_LIMITS, parseHostMessage, type FrameMessage } from '../../src/core/embed-protocol';

describe('parseHostMessage', () => {
  it('returns null for anything that is not a Glimpse request', () => {
    for (const data of [
      null,
      'classify',
      42,
      [],
      { type: 'classify' },
      { glimpse: 2, type: 'status' },
      { glimpse: 1, type: 'launch' },
      new (class X {})(),
    ]) {
      expect(parseHostMessage(data), JSON.stringify(data)).toBeNull();
    }
    expect(parseHostMessage(JSON.parse('{"glimpse":1,"type":"status","__proto__":{"polluted":true}}'))).toBeNull();
  });

  it('accepts status and well-formed classify requests', () => {
    const image = new Blob([new Uint8Array(4)]);
    expect(parseHostMessage({ glimpse: 1, type: 'status' })).toEqual({
      ok: true,
      message: { glimpse: 1, type: 'status' },
    });
    expect(parseHostMessage({ glimpse: 1, type: 'classify', id: 'a', image, topK: 3 })).toEqual({
      ok: true,
      message: { glimpse: 1, type: 'classify', id: 'a', image, topK: 3 },
    });
    expect(parseHostMessage({ glimpse: 1, type: 'classify', id: 'b', image: new ArrayBuffer(8) })).toMatchObject({
      ok: true,
    });
  });

  it('names the id of a malformed classify request so it can be answered bad-request, and only then', () => {
    const image = new ArrayBuffer(8);
    for (const topK of [0, 21, 1.5, '3', null])
      expect(parseHostMessage({ glimpse: 1, type: 'classify', id: 'k', image, topK })).toEqual({ ok: false, id: 'k' });
    for (const bad of ['x', 12, {}, null])
      expect(parseHostMessage({ glimpse: 1, type: 'classify', id: 'i', image: bad })).toEqual({ ok: false, id: 'i' });
    for (const id of ['', 'x'.repeat(EMBED_LIMITS.idLength + 1), 7, undefined])
      expect(parseHostMessage({ glimpse: 1, type: 'classify', id, image })).toEqual({ ok: false, id: null });
  });
});

/** A frame's window with a parent that records what it is sent, and a way to deliver messages. */
function fakeFrame(early: MessageEvent[] = []) {
  const sent: { message: FrameMessage; origin: string }[] = [];
  const parent = { postMessage: (message: FrameMessage, origin: string) => sent.push({ message, origin }) };
  let listener: ((event: MessageEvent) => void) | null = null;
  const win = {
    parent,
    location: { ancestorOrigins: ['https://host.example'] },
    document: { referrer: '' },
    addEventListener: (_: string, fn: (event: MessageEvent) => void) => (listener = fn),
    glimpseEarlyMessages: () => early,
  };
  const deliver = (data: unknown, origin = 'https://host.example', source: unknown = parent) =>
    listener!({ data, origin, source } as MessageEvent);
  return { win: win as unknown as Window, parent, sent, deliver };
}

function fakeClassifier(
  classify: BridgeClassifier['classifyImage'] = async () => ({
    predictions: [{ label: 'cat', index: 1, probability: 0.9 }],
    backend: 'wasm',
    ms: 5,
    memory: { tensors: 1, bytes: 4 },
  }),
): BridgeClassifier {
  return {
    loaded: async () => ({
      model: { id: 'builtin', name: 'm', version: '0123456789abcdef', classes: 2, inputSize: [224, 224] } as never,
      backend: 'wasm',
    }),
    subscribe: (_: (event: LoadProgress) => void) => undefined,
    classifyImage: classify,
  };
}

const replies = (sent: { message: FrameMessage }[]) => sent.map((s) => s.message).filter((m) => m.type !== 'ready');

describe('the embed bridge', () => {
  it('announces ready with exactly the documented model fields, to the embedding origin only', async () => {
    const { win, sent } = fakeFrame();
    startBridge(win, '*', fakeClassifier());
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      message: {
        glimpse: 1,
        type: 'ready',
        model: { id: 'builtin', name: 'm', version: '0123456789abcdef', classes: 2 },
        backend: 'wasm',
      },
      origin: 'https://host.example',
    });
  });

  it('answers a malformed request bad-request by its id, and ignores other windows and origins', async () => {
    const { win, sent, deliver } = fakeFrame();
    startBridge(win, ['https://host.example'], fakeClassifier());
    deliver({ glimpse: 1, type: 'classify', id: 'bad', image: 'nope' });
    deliver({ glimpse: 1, type: 'classify', id: 'stranger', image: new ArrayBuffer(4) }, 'https://evil.example');
    deliver({ glimpse: 1, type: 'classify', id: 'sibling', image: new ArrayBuffer(4) }, 'https://host.example', {});
    deliver({ glimpse: 1, type: 'classify', id: 'good', image: new ArrayBuffer(4) });
    await vi.waitFor(() => expect(replies(sent)).toHaveLength(2));
    expect(replies(sent).map((m) => [m.type, 'id' in m ? m.id : '', 'code' in m ? m.code : ''])).toEqual([
      ['error', 'bad', 'bad-request'],
      ['result', 'good', ''],
    ]);
    expect(sent.every((s) => s.origin === 'https://host.example')).toBe(true);
  });

  it(`answers in order, one at a time, and busy past ${EMBED_LIMITS.maxQueue} waiting`, async () => {
    const { win, sent, deliver } = fakeFrame();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    startBridge(
      win,
      '*',
      fakeClassifier(
        async () => (await gate, { predictions: [], backend: 'wasm', ms: 1, memory: { tensors: 1, bytes: 4 } }),
      ),
    );
    for (let i = 0; i < EMBED_LIMITS.maxQueue + 3; i++)
      deliver({ glimpse: 1, type: 'classify', id: `r${i}`, image: new ArrayBuffer(4) });
    // The first is running, 32 wait, the rest are refused at once.
    expect(replies(sent).map((m) => ('code' in m ? m.code : m.type))).toEqual(['busy', 'busy']);
    release();
    await vi.waitFor(() => expect(replies(sent)).toHaveLength(EMBED_LIMITS.maxQueue + 3));
    const results = replies(sent)
      .filter((m) => m.type === 'result')
      .map((m) => ('id' in m ? m.id : ''));
    expect(results).toEqual(Array.from({ length: EMBED_LIMITS.maxQueue + 1 }, (_, i) => `r${i}`));
  });

  it('answers busy when the waiting images would hold more than the byte bound, however few they are', async () => {
    const { win, sent, deliver } = fakeFrame();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    startBridge(
      win,
      '*',
      fakeClassifier(
        async () => (await gate, { predictions: [], backend: 'wasm', ms: 1, memory: { tensors: 1, bytes: 4 } }),
      ),
    );
    // 40-megapixel bitmaps: 160 MB of pixels each (Node has no ImageBitmap: a stand-in of that class).
    class FakeBitmap {
      readonly width = 8000;
      readonly height = 5000;
    }
    vi.stubGlobal('ImageBitmap', FakeBitmap);
    const bitmap = new FakeBitmap() as unknown as ImageBitmap;
    const fit = Math.floor(EMBED_LIMITS.maxQueuedBytes / (8000 * 5000 * 4));
    for (let i = 0; i < fit + 3; i++) deliver({ glimpse: 1, type: 'classify', id: `b${i}`, image: bitmap });
    // The first runs, `fit` wait, the last two are refused at once.
    expect(replies(sent).map((m) => ('code' in m ? [m.code, m.id] : [m.type]))).toEqual([
      ['busy', `b${fit + 1}`],
      ['busy', `b${fit + 2}`],
    ]);
    release();
    await vi.waitFor(() => expect(replies(sent)).toHaveLength(fit + 3));
    // Once the queue drained, a big image is taken again.
    deliver({ glimpse: 1, type: 'classify', id: 'again', image: bitmap });
    await vi.waitFor(() => expect(replies(sent).at(-1)).toMatchObject({ type: 'result', id: 'again' }));
  });

  it('answers messages that arrived before it listened', async () => {
    const parentless = fakeFrame();
    const early = [
      {
        data: { glimpse: 1, type: 'classify', id: 'early', image: 'nope' },
        origin: 'https://host.example',
        source: parentless.parent,
      } as unknown as MessageEvent,
    ];
    const { win, sent } = {
      ...parentless,
      win: { ...(parentless.win as object), glimpseEarlyMessages: () => early } as unknown as Window,
    };
    startBridge(win, '*', fakeClassifier());
    await vi.waitFor(() =>
      expect(replies(sent)).toEqual([
        { glimpse: 1, type: 'error', id: 'early', code: 'bad-request', message: 'malformed classify message' },
      ]),
    );
  });
});
