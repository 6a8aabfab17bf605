import { errorCodeOf, type ErrorCode } from '../../core/errors';
import type { ClassifierApi, LoadProgress } from '../../../workers/api';
import { EMBED_LIMITS, parseHostMessage, type EmbedImage, type FrameMessage } from './protocol';

/** What the bridge needs from the app's classifier: its load state and one classification. */
export interface BridgeClassifier {
  loaded(): Promise<{ model: { name: string; version: string; classes: number }; backend: string }>;
  subscribe(listener: (event: LoadProgress) => void): void;
  classifyImage(image: Blob | ImageBitmap, topK: number): ReturnType<ClassifierApi['classify']>;
}

interface Request {
  id: string;
  image: EmbedImage;
  topK: number;
  origin: string;
}

function originOf(url: string): string | null {
  try {
    return url ? new URL(url).origin : null;
  } catch {
    return null;
  }
}

/** The classifier checks every kind of image alike: bytes by their header, bitmaps by their size. */
const toClassifiable = (image: EmbedImage): Blob | ImageBitmap => (image instanceof ArrayBuffer ? new Blob([image]) : image);

/**
 * Answers the parent page's messages. Only `window.parent` is listened to, only from
 * allowed origins, and every reply names the sender's exact origin. Requests are
 * answered one at a time, in order; past the queue bound they get `busy` at once.
 */
export function startBridge(win: Window, allowed: '*' | readonly string[], classifier: BridgeClassifier): void {
  const early = win.glimpseEarlyMessages?.() ?? [];
  const parent = win.parent;
  if (parent === win) return;
  const isAllowed = (origin: string) => origin !== 'null' && (allowed === '*' || allowed.includes(origin));
  const post = (message: FrameMessage, origin: string) => parent.postMessage(message, origin);

  // Where to announce readiness before the host has said anything.
  const ancestor = win.location.ancestorOrigins?.[0] ?? originOf(win.document.referrer);
  const listeners = new Set<string>(ancestor && isAllowed(ancestor) ? [ancestor] : []);

  const announceReady = async (origin: string) => {
    try {
      const info = await classifier.loaded();
      post({ glimpse: 1, type: 'ready', model: info.model, backend: info.backend }, origin);
    } catch {
      // The host hears of a failed load through the error answering its first request.
    }
  };
  for (const origin of listeners) void announceReady(origin);
  classifier.subscribe((event) => {
    for (const origin of listeners) {
      if (event.phase === 'download') post({ glimpse: 1, type: 'progress', phase: 'download', loaded: event.loaded, total: event.total }, origin);
      else if (event.phase === 'warmup') post({ glimpse: 1, type: 'progress', phase: 'warmup', loaded: 0, total: 0 }, origin);
    }
  });

  const queue: Request[] = [];
  let running = false;
  const fail = (id: string, code: ErrorCode, message: string, origin: string) => post({ glimpse: 1, type: 'error', id, code, message }, origin);

  async function pump(): Promise<void> {
    if (running) return;
    running = true;
    for (let request = queue.shift(); request; request = queue.shift()) {
      try {
        await classifier.loaded();
        const result = await classifier.classifyImage(toClassifiable(request.image), request.topK);
        post({ glimpse: 1, type: 'result', id: request.id, predictions: result.predictions, backend: result.backend, ms: result.ms }, request.origin);
      } catch (error) {
        fail(request.id, errorCodeOf(error), (error as Error)?.message ?? String(error), request.origin);
      }
    }
    running = false;
  }

  function receive(event: MessageEvent): void {
    if (event.source !== parent || !isAllowed(event.origin)) return;
    const parsed = parseHostMessage(event.data);
    if (!parsed) return;
    if (!parsed.ok) {
      if (parsed.id !== null) fail(parsed.id, 'bad-request', 'malformed classify message', event.origin);
      return;
    }
    const message = parsed.message;
    if (message.type === 'status') {
      listeners.add(event.origin);
      void announceReady(event.origin);
      return;
    }
    if (queue.length >= EMBED_LIMITS.maxQueue) {
      fail(message.id, 'busy', `${EMBED_LIMITS.maxQueue} requests are already waiting`, event.origin);
      return;
    }
    queue.push({ id: message.id, image: message.image, topK: message.topK ?? 5, origin: event.origin });
    void pump();
  }

  win.addEventListener('message', receive);
  performance.mark('glimpse:bridge-listening');
  for (const event of early) receive(event);
}
