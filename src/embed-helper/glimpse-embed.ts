import type { ErrorCode } from '../core/errors';
import type { Prediction } from '../core/predictions';
import { isFrameMessage, PROTOCOL_VERSION, type EmbedImage, type EmbedModel, type FrameMessage, type HostMessage } from '../lib/embed/protocol';

/**
 * embed.js: what a host page loads from the Glimpse site to put the classifier in an
 * iframe and talk to it. `Glimpse.embed(element, { origin })` resolves once the model
 * is ready; `classify()` resolves with the predictions. Images never leave the browser.
 */

export interface EmbedOptions {
  /** The Glimpse site's origin, e.g. "https://glimpse.example". */
  origin: string;
  /** Results per image (1–20); default 5. */
  topK?: number;
  /** Height of the frame in CSS pixels; default 420. */
  height?: number;
  /** Reject `embed()` if the model is not ready in time; default 60 s. */
  timeoutMs?: number;
}

export interface Progress {
  phase: 'download' | 'warmup';
  loaded: number;
  total: number;
}

export class GlimpseEmbedError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'GlimpseEmbedError';
  }
}

type Events = { progress: Progress; ready: { model: EmbedModel; backend: string } };

export interface GlimpseEmbed {
  readonly frame: HTMLIFrameElement;
  readonly model: EmbedModel;
  readonly backend: string;
  classify(image: EmbedImage, options?: { topK?: number }): Promise<Prediction[]>;
  on<E extends keyof Events>(event: E, listener: (detail: Events[E]) => void): () => void;
  destroy(): void;
}

let nextId = 0;

export function embed(element: HTMLElement, options: EmbedOptions): Promise<GlimpseEmbed> {
  const origin = new URL(options.origin).origin;
  const frame = document.createElement('iframe');
  frame.src = `${origin}/embed.html`;
  frame.title = 'Glimpse image classifier';
  frame.style.cssText = `width:100%;height:${options.height ?? 420}px;border:0`;

  const listeners: { [E in keyof Events]: Set<(detail: Events[E]) => void> } = { progress: new Set(), ready: new Set() };
  const pending = new Map<string, { resolve: (p: Prediction[]) => void; reject: (e: Error) => void }>();
  let ready: { model: EmbedModel; backend: string } | null = null;
  let resolveReady: (info: { model: EmbedModel; backend: string }) => void = () => undefined;
  const whenReady = new Promise<{ model: EmbedModel; backend: string }>((resolve) => (resolveReady = resolve));

  const send = (message: HostMessage, transfer: Transferable[] = []) => frame.contentWindow?.postMessage(message, origin, transfer);

  function receive(event: MessageEvent): void {
    if (event.source !== frame.contentWindow || event.origin !== origin || !isFrameMessage(event.data)) return;
    const message: FrameMessage = event.data;
    if (message.type === 'ready') {
      gone = false;
      ready = { model: message.model, backend: message.backend };
      resolveReady(ready);
      for (const listener of listeners.ready) listener(ready);
    } else if (message.type === 'progress') {
      for (const listener of listeners.progress) listener({ phase: message.phase, loaded: message.loaded, total: message.total });
    } else {
      const request = pending.get(message.id);
      if (!request) return;
      pending.delete(message.id);
      if (message.type === 'result') request.resolve(message.predictions);
      else request.reject(new GlimpseEmbedError(message.code, message.message));
    }
  }
  window.addEventListener('message', receive);
  /** Rejects every request still waiting: their answers can no longer come. */
  const abandon = (code: ErrorCode, message: string) => {
    for (const request of pending.values()) request.reject(new GlimpseEmbedError(code, message));
    pending.clear();
  };
  let loads = 0;
  let gone = false;
  frame.addEventListener('load', () => {
    // A second load means the frame was navigated (to about:blank, say) or reloaded: the
    // document that held the waiting requests is gone. A Glimpse page announces `ready` again.
    if (++loads > 1) {
      gone = true;
      abandon('model-unavailable', 'the Glimpse frame was navigated away or reloaded');
    }
    // Asking for status covers a frame that became ready before it knew our origin.
    send({ glimpse: PROTOCOL_VERSION, type: 'status' });
  });
  element.appendChild(frame);

  const api: GlimpseEmbed = {
    frame,
    get model() {
      return ready!.model;
    },
    get backend() {
      return ready!.backend;
    },
    classify(image, { topK = options.topK } = {}) {
      const id = `glimpse-${++nextId}`;
      return new Promise<Prediction[]>((resolve, reject) => {
        if (gone || !frame.isConnected) return reject(new GlimpseEmbedError('model-unavailable', 'the Glimpse frame is gone'));
        pending.set(id, { resolve, reject });
        send({ glimpse: PROTOCOL_VERSION, type: 'classify', id, image, ...(topK === undefined ? {} : { topK }) });
      });
    },
    on(event, listener) {
      listeners[event].add(listener);
      return () => listeners[event].delete(listener);
    },
    destroy() {
      window.removeEventListener('message', receive);
      abandon('cancelled', 'the embed was destroyed');
      frame.remove();
    },
  };

  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise<GlimpseEmbed>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Nobody holds the API of an embed that never became ready: leave nothing behind.
      api.destroy();
      reject(new GlimpseEmbedError('timeout', `Glimpse at ${origin} was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    void whenReady.then(() => {
      clearTimeout(timer);
      resolve(api);
    });
  });
}
