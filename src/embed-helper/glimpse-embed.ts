import type { ErrorCode } from '../core/errors';
import type { Prediction } from '../core/predictions';
import {
  isFrameMessage,
  PROTOCOL_VERSION,
  type EmbedImage,
  type EmbedModel,
  type FrameMessage,
  type HostMessage,
} from '../core/embed-protocol';

/**
 * embed.js: what a host page loads from the Glimpse site to put the classifier in an
 * iframe and talk to it. `Glimpse.embed(element, { origin, model? })` resolves once the model
 * (the built-in one, or a model the site ships, by id) is ready; `classify()` resolves with the predictions. Images never leave the browser.
 */

export interface EmbedOptions {
  /** The Glimpse site's origin, e.g. "https://glimpse.example". */
  origin: string;
  /** Results per image (1–20); default 5. */
  topK?: number;
  /** Below this top-1 probability (0–1) an answer is not sure (`sure: false`); default 0. */
  minConfidence?: number;
  /** Height of the frame in CSS pixels; default 420. */
  height?: number;
  /** Reject `embed()` if the model is not ready in time; default 60 s. */
  timeoutMs?: number;
  /** A model the site ships (its id in the site's models/catalogue.json); default the built-in one. */
  model?: string;
}

/** A shipped model's id is its folder's name: letters, digits, dot, dash and underscore. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

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
  /** The predictions, most probable first; `sure` says whether the top-1 reaches `minConfidence`. */
  classify(image: EmbedImage, options?: ClassifyOptions): Promise<Answer>;
  on<E extends keyof Events>(event: E, listener: (detail: Events[E]) => void): () => void;
  destroy(): void;
}

export interface ClassifyOptions {
  topK?: number;
  minConfidence?: number;
}

/** The ranked predictions (an array, as before) with whether the answer is sure. */
export type Answer = Prediction[] & { sure: boolean };

let nextId = 0;

type Ready = { model: EmbedModel; backend: string };

/** One Glimpse frame and the conversation with it: requests waiting for answers, events, its lifecycle. */
class Connection implements GlimpseEmbed {
  private readonly listeners: { [E in keyof Events]: Set<(detail: Events[E]) => void> } = {
    progress: new Set(),
    ready: new Set(),
  };
  private readonly pending = new Map<string, { resolve: (answer: Answer) => void; reject: (e: Error) => void }>();
  private readonly readyWaiters: ((info: Ready) => void)[] = [];
  private info: Ready | null = null;
  private loads = 0;
  /** The frame's document that held the waiting requests is gone (navigated away or reloaded). */
  private gone = false;
  private readonly onMessage = (event: MessageEvent) => this.receive(event);

  constructor(
    readonly frame: HTMLIFrameElement,
    private readonly origin: string,
    private readonly topK: number | undefined,
    private readonly minConfidence: number | undefined,
  ) {
    window.addEventListener('message', this.onMessage);
    frame.addEventListener('load', () => this.loaded());
  }

  get model(): EmbedModel {
    return this.info!.model;
  }

  get backend(): string {
    return this.info!.backend;
  }

  whenReady(): Promise<Ready> {
    return this.info ? Promise.resolve(this.info) : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private send(message: HostMessage): void {
    this.frame.contentWindow?.postMessage(message, this.origin);
  }

  private loaded(): void {
    // A second load means the frame was navigated (to about:blank, say) or reloaded. A
    // Glimpse page announces `ready` again.
    if (++this.loads > 1) {
      this.gone = true;
      this.abandon('model-unavailable', 'the Glimpse frame was navigated away or reloaded');
    }
    // Asking for status covers a frame that became ready before it knew our origin.
    this.send({ glimpse: PROTOCOL_VERSION, type: 'status' });
  }

  private receive(event: MessageEvent): void {
    if (event.source !== this.frame.contentWindow || event.origin !== this.origin || !isFrameMessage(event.data))
      return;
    const message: FrameMessage = event.data;
    if (message.type === 'ready') {
      this.gone = false;
      this.info = { model: message.model, backend: message.backend };
      for (const resolve of this.readyWaiters.splice(0)) resolve(this.info);
      for (const listener of this.listeners.ready) listener(this.info);
    } else if (message.type === 'progress') {
      for (const listener of this.listeners.progress)
        listener({ phase: message.phase, loaded: message.loaded, total: message.total });
    } else {
      const request = this.pending.get(message.id);
      if (!request) return;
      this.pending.delete(message.id);
      if (message.type === 'result')
        request.resolve(Object.assign(message.predictions, { sure: message.sure !== false }));
      else request.reject(new GlimpseEmbedError(message.code, message.message));
    }
  }

  /** Rejects every request still waiting: their answers can no longer come. */
  private abandon(code: ErrorCode, message: string): void {
    for (const request of this.pending.values()) request.reject(new GlimpseEmbedError(code, message));
    this.pending.clear();
  }

  classify(
    image: EmbedImage,
    { topK = this.topK, minConfidence = this.minConfidence }: ClassifyOptions = {},
  ): Promise<Answer> {
    const id = `glimpse-${++nextId}`;
    return new Promise<Answer>((resolve, reject) => {
      if (this.gone || !this.frame.isConnected)
        return reject(new GlimpseEmbedError('model-unavailable', 'the Glimpse frame is gone'));
      this.pending.set(id, { resolve, reject });
      this.send({
        glimpse: PROTOCOL_VERSION,
        type: 'classify',
        id,
        image,
        ...(topK === undefined ? {} : { topK }),
        ...(minConfidence === undefined ? {} : { minConfidence }),
      });
    });
  }

  on<E extends keyof Events>(event: E, listener: (detail: Events[E]) => void): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  destroy(): void {
    window.removeEventListener('message', this.onMessage);
    this.abandon('cancelled', 'the embed was destroyed');
    this.frame.remove();
  }
}

export function embed(element: HTMLElement, options: EmbedOptions): Promise<GlimpseEmbed> {
  const origin = new URL(options.origin).origin;
  if (options.model !== undefined && !(typeof options.model === 'string' && MODEL_ID.test(options.model))) {
    return Promise.reject(
      new GlimpseEmbedError(
        'bad-request',
        `model must be a shipped model's id (its folder's name), not ${JSON.stringify(options.model)}`,
      ),
    );
  }
  const frame = document.createElement('iframe');
  frame.src = `${origin}/embed.html${options.model ? `?model=${encodeURIComponent(options.model)}` : ''}`;
  frame.title = 'Glimpse image classifier';
  frame.style.cssText = `width:100%;height:${options.height ?? 420}px;border:0`;
  const connection = new Connection(frame, origin, options.topK, options.minConfidence);
  element.appendChild(frame);

  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise<GlimpseEmbed>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Nobody holds the API of an embed that never became ready: leave nothing behind.
      connection.destroy();
      reject(new GlimpseEmbedError('timeout', `Glimpse at ${origin} was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    void connection.whenReady().then(() => {
      clearTimeout(timer);
      resolve(connection);
    });
  });
}
