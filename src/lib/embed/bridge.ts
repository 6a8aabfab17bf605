import { errorCodeOf, type ErrorCode } from '../../core/errors';
import type { ClassifyResult, LoadProgress } from '../../core/classifier-types';
import { isSure } from '../../core/predictions';
import { EMBED_LIMITS, parseHostMessage, type EmbedImage, type FrameMessage } from '../../core/embed-protocol';

declare global {
  interface Window {
    /** Messages that reached embed.html before the bridge listened (public/embed-early.js). */
    glimpseEarlyMessages?: () => MessageEvent[];
  }
}

/** What the bridge needs from the app's classifier: its load state and one classification. */
export interface BridgeClassifier {
  loaded(): Promise<{ model: { id: string; name: string; version: string; classes: number }; backend: string }>;
  subscribe(listener: (event: LoadProgress) => void): void;
  classifyImage(image: Blob | ImageBitmap, topK: number): Promise<ClassifyResult>;
}

interface Request {
  id: string;
  image: EmbedImage;
  topK: number;
  minConfidence: number;
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
const toClassifiable = (image: EmbedImage): Blob | ImageBitmap =>
  image instanceof ArrayBuffer ? new Blob([image]) : image;

/** The memory a waiting image holds: a file's bytes, a bitmap's RGBA pixels. */
const heldBytes = (image: EmbedImage): number =>
  image instanceof ArrayBuffer ? image.byteLength : image instanceof Blob ? image.size : image.width * image.height * 4;

/**
 * Answers the parent page's messages. Only `window.parent` is listened to, only from
 * allowed origins, and every reply names the sender's exact origin. Requests are
 * answered one at a time, in order; past the queue bound they get `busy` at once.
 */
class Bridge {
  /** Origins that hear `ready` and progress: the embedding page's, and any that asked for status. */
  private readonly listeners = new Set<string>();
  private readonly queue: Request[] = [];
  private queuedBytes = 0;
  private running = false;

  constructor(
    private readonly parent: Window,
    private readonly allowed: '*' | readonly string[],
    private readonly classifier: BridgeClassifier,
    /** The frame's own minimum confidence (`embed.html?minConfidence=`), where a request names none. */
    private readonly minConfidence = 0,
  ) {}

  isAllowed(origin: string): boolean {
    return origin !== 'null' && (this.allowed === '*' || this.allowed.includes(origin));
  }

  private post(message: FrameMessage, origin: string): void {
    this.parent.postMessage(message, origin);
  }

  private fail(id: string, code: ErrorCode, message: string, origin: string): void {
    this.post({ glimpse: 1, type: 'error', id, code, message }, origin);
  }

  /** Tells `origin` the model is ready, once it is; a failed load is told by the error answering the first request. */
  async listen(origin: string): Promise<void> {
    this.listeners.add(origin);
    try {
      const info = await this.classifier.loaded();
      // Field by field, as the protocol documents: nothing else of the worker's model info leaks out.
      const { id, name, version, classes } = info.model;
      this.post({ glimpse: 1, type: 'ready', model: { id, name, version, classes }, backend: info.backend }, origin);
    } catch {
      // Nothing to announce.
    }
  }

  relay(event: LoadProgress): void {
    for (const origin of this.listeners) {
      if (event.phase === 'download')
        this.post(
          { glimpse: 1, type: 'progress', phase: 'download', loaded: event.loaded, total: event.total },
          origin,
        );
      else if (event.phase === 'warmup')
        this.post({ glimpse: 1, type: 'progress', phase: 'warmup', loaded: 0, total: 0 }, origin);
    }
  }

  receive(event: MessageEvent): void {
    if (event.source !== this.parent || !this.isAllowed(event.origin)) return;
    const parsed = parseHostMessage(event.data);
    if (!parsed) return;
    if (!parsed.ok) {
      if (parsed.id !== null) this.fail(parsed.id, 'bad-request', 'malformed classify message', event.origin);
      return;
    }
    const message = parsed.message;
    if (message.type === 'status') {
      void this.listen(event.origin);
    } else if (this.queue.length >= EMBED_LIMITS.maxQueue) {
      this.fail(message.id, 'busy', `${EMBED_LIMITS.maxQueue} requests are already waiting`, event.origin);
    } else if (this.queue.length > 0 && this.queuedBytes + heldBytes(message.image) > EMBED_LIMITS.maxQueuedBytes) {
      this.fail(
        message.id,
        'busy',
        `the requests already waiting hold ${Math.round(this.queuedBytes / 1024 / 1024)} MB of images`,
        event.origin,
      );
    } else {
      this.queue.push({
        id: message.id,
        image: message.image,
        topK: message.topK ?? 5,
        minConfidence: message.minConfidence ?? this.minConfidence,
        origin: event.origin,
      });
      this.queuedBytes += heldBytes(message.image);
      void this.pump();
    }
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (let request = this.queue.shift(); request; request = this.queue.shift()) {
      this.queuedBytes -= heldBytes(request.image);
      try {
        await this.classifier.loaded();
        const result = await this.classifier.classifyImage(toClassifiable(request.image), request.topK);
        const sure = isSure(result.predictions, request.minConfidence);
        this.post(
          {
            glimpse: 1,
            type: 'result',
            id: request.id,
            predictions: result.predictions,
            sure,
            backend: result.backend,
            ms: result.ms,
          },
          request.origin,
        );
      } catch (error) {
        this.fail(request.id, errorCodeOf(error), (error as Error)?.message ?? String(error), request.origin);
      }
    }
    this.running = false;
  }
}

/** Starts answering the embedding page, messages that arrived before now included. */
export function startBridge(
  win: Window,
  allowed: '*' | readonly string[],
  classifier: BridgeClassifier,
  minConfidence = 0,
): void {
  const early = win.glimpseEarlyMessages?.() ?? [];
  if (win.parent === win) return;
  const bridge = new Bridge(win.parent, allowed, classifier, minConfidence);
  // Where to announce readiness before the host has said anything.
  const ancestor = win.location.ancestorOrigins?.[0] ?? originOf(win.document.referrer);
  if (ancestor && bridge.isAllowed(ancestor)) void bridge.listen(ancestor);
  classifier.subscribe((event) => bridge.relay(event));
  win.addEventListener('message', (event: MessageEvent) => bridge.receive(event));
  performance.mark('glimpse:bridge-listening');
  for (const event of early) bridge.receive(event);
}
