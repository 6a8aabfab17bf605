import type { ErrorCode } from './errors';
import { isMinConfidence, type Prediction } from './predictions';

/**
 * The postMessage protocol between a host page and /embed.html, version 1.
 * Written by hand and small on purpose: the frame never exposes anything else.
 */
export const PROTOCOL_VERSION = 1;

export type EmbedImage = Blob | ArrayBuffer | ImageBitmap;

export type HostMessage =
  | { glimpse: 1; type: 'classify'; id: string; image: EmbedImage; topK?: number; minConfidence?: number }
  | { glimpse: 1; type: 'status' };

export interface EmbedModel {
  /** 'builtin', or the id of a model the site ships (embed.html?model=<id>). */
  id: string;
  name: string;
  version: string;
  classes: number;
}

export type FrameMessage =
  | { glimpse: 1; type: 'ready'; model: EmbedModel; backend: string }
  | { glimpse: 1; type: 'progress'; phase: 'download' | 'warmup'; loaded: number; total: number }
  /** `sure`: the top-1 reaches the request's `minConfidence` (or the frame's `?minConfidence=`; 0 by default). */
  | { glimpse: 1; type: 'result'; id: string; predictions: Prediction[]; sure: boolean; backend: string; ms: number }
  | { glimpse: 1; type: 'error'; id: string; code: ErrorCode; message: string };

export const EMBED_LIMITS = {
  idLength: 128,
  maxTopK: 20,
  /** Requests waiting in the frame; more are answered at once with `busy`. */
  maxQueue: 32,
  /** What waiting requests may hold together (a bitmap counted as its RGBA pixels); more is answered `busy`. */
  maxQueuedBytes: 512 * 1024 * 1024,
} as const;

/** A host message that failed validation but names a request id can still be answered with `bad-request`. */
export type ParseResult = { ok: true; message: HostMessage } | { ok: false; id: string | null };

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return (proto === Object.prototype || proto === null) && !FORBIDDEN_KEYS.some((k) => Object.hasOwn(x, k));
}

const isImage = (x: unknown): x is EmbedImage =>
  x instanceof Blob || x instanceof ArrayBuffer || (typeof ImageBitmap !== 'undefined' && x instanceof ImageBitmap);

/** Validates a message from the host; returns null for anything that is not ours to answer. */
export function parseHostMessage(data: unknown): ParseResult | null {
  if (!isPlainObject(data) || data.glimpse !== PROTOCOL_VERSION) return null;
  if (data.type === 'status') return { ok: true, message: { glimpse: 1, type: 'status' } };
  if (data.type !== 'classify') return null;
  const { id, image, topK, minConfidence } = data;
  if (typeof id !== 'string' || id.length === 0 || id.length > EMBED_LIMITS.idLength) return { ok: false, id: null };
  if (!isImage(image)) return { ok: false, id };
  if (
    topK !== undefined &&
    (!Number.isInteger(topK) || (topK as number) < 1 || (topK as number) > EMBED_LIMITS.maxTopK)
  ) {
    return { ok: false, id };
  }
  if (minConfidence !== undefined && !isMinConfidence(minConfidence)) return { ok: false, id };
  return {
    ok: true,
    message: {
      glimpse: 1,
      type: 'classify',
      id,
      image,
      ...(topK === undefined ? {} : { topK: topK as number }),
      ...(minConfidence === undefined ? {} : { minConfidence }),
    },
  };
}

export function isFrameMessage(data: unknown): data is FrameMessage {
  return isPlainObject(data) && data.glimpse === PROTOCOL_VERSION && typeof data.type === 'string';
}
