import type { ClassifyResult } from '../core/classifier-types';
import {
  CameraBlockedError,
  CameraBusyError,
  CameraDeniedError,
  CameraLostError,
  InsecureContextError,
  NoCameraError,
} from '../core/errors';
import { averagePredictions, type Prediction } from '../core/predictions';
import { classifier } from './classifier.svelte';

export type CameraState = 'off' | 'starting' | 'live' | 'paused' | 'error';
export type Facing = 'user' | 'environment';

const TOP_K = 5;
/** Frames whose probabilities are averaged when smoothing is on. */
export const SMOOTHING_FRAMES = 5;
/** The window the classified-frames-per-second figure is counted over. */
const FPS_WINDOW_MS = 2_000;
const MS_WINDOW = 10;

/** getUserMedia's DOMException names, as the errors the user is told about. */
function cameraError(error: unknown): Error {
  const name = (error as Error | null)?.name;
  const message = (error as Error | null)?.message ?? String(error);
  if (name === 'NotAllowedError' || name === 'SecurityError') return new CameraDeniedError(message);
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return new NoCameraError(message);
  if (name === 'NotReadableError' || name === 'AbortError' || name === 'TrackStartError')
    return new CameraBusyError(message);
  return error instanceof Error ? error : new CameraBusyError(message);
}

/** Whether the embedding page's Permissions-Policy lets this document use the camera at all. */
function cameraAllowedByPolicy(): boolean {
  const policy = (document as Document & { featurePolicy?: { allowsFeature(feature: string): boolean } }).featurePolicy;
  return policy ? policy.allowsFeature('camera') : true;
}

/** A camera stream, after the checks that name why there is none: insecure page, blocked by the embedder, denied, missing, busy. */
export async function openCamera(choice: { deviceId?: string; facing?: Facing } = {}): Promise<MediaStream> {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia)
    throw new InsecureContextError('getUserMedia needs a secure context');
  if (!cameraAllowedByPolicy())
    throw new CameraBlockedError('the Permissions-Policy of this page does not allow the camera');
  const constraints = choice.deviceId
    ? { deviceId: { exact: choice.deviceId } }
    : { facingMode: choice.facing ?? 'user' };
  return navigator.mediaDevices.getUserMedia({ video: constraints, audio: false }).catch((error: unknown) => {
    throw cameraError(error);
  });
}

/** The video's current frame as a JPEG file, at the camera's resolution. */
export async function frameFile(video: HTMLVideoElement): Promise<File | null> {
  if (video.videoWidth === 0) return null;
  const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
  canvas.getContext('2d')!.drawImage(video, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
  return new File([blob], `camera-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg`, { type: 'image/jpeg' });
}

/**
 * Live classification of a camera: at most one frame in the worker; while it runs, the
 * newest frame waits in a single slot (an older one is dropped), so the worker is never
 * idle and nothing queues up. Frames go as transferred ImageBitmaps, already cropped and
 * scaled as the model looks at them. The stream stops when the view is left, the page is
 * hidden, or anything fails; it starts again only when the user asks.
 */
class LiveCamera {
  state = $state<CameraState>('off');
  error = $state.raw<unknown>(null);
  /** The last stop happened because the page was hidden. */
  stoppedHidden = $state(false);
  predictions = $state.raw<Prediction[]>([]);
  /** Classified frames per second, over the last two seconds. */
  fps = $state(0);
  /** Mean worker ms per frame over the last ten frames. */
  workerMs = $state(0);
  /** Frames classified since the camera started, and the worker's tensor count after the latest. */
  frames = $state(0);
  tensors = $state(0);
  devices = $state.raw<{ deviceId: string; label: string }[]>([]);
  smoothing = $state(false);

  private video: HTMLVideoElement | null = null;
  private stream: MediaStream | null = null;
  /** Bumped by every start and stop: work of an older session is ignored. */
  private session = 0;
  private inFlight = false;
  private grabbing = false;
  private waiting: ImageBitmap | null = null;
  private recent: { at: number; ms: number }[] = [];
  private history: Prediction[][] = [];

  constructor() {
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'hidden' && this.state !== 'off' && this.state !== 'error') {
          this.stop();
          this.stoppedHidden = true;
        }
      });
    }
  }

  async start(video: HTMLVideoElement, choice: { deviceId?: string; facing?: Facing } = {}): Promise<void> {
    this.stop();
    const session = this.session;
    this.video = video;
    this.state = 'starting';
    this.error = null;
    this.stoppedHidden = false;
    try {
      const stream = await openCamera(choice);
      if (session !== this.session) return void stream.getTracks().forEach((t) => t.stop());
      this.stream = stream;
      for (const track of stream.getVideoTracks())
        track.addEventListener(
          'ended',
          () => session === this.session && this.fail(new CameraLostError('the camera track ended')),
        );
      video.srcObject = stream;
      await video.play();
      const devices = await navigator.mediaDevices.enumerateDevices();
      this.devices = devices
        .filter((d) => d.kind === 'videoinput')
        .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
      if (session !== this.session) return;
      this.state = 'live';
      this.nextFrame(session);
    } catch (error) {
      if (session === this.session) this.fail(error);
    }
  }

  stop(): void {
    this.session++;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    if (this.video) this.video.srcObject = null;
    this.waiting?.close();
    this.waiting = null;
    this.inFlight = false;
    this.recent = [];
    this.history = [];
    this.fps = 0;
    this.frames = 0;
    if (this.state !== 'error') this.state = 'off';
  }

  pause(): void {
    if (this.state !== 'live') return;
    this.state = 'paused';
    this.video?.pause();
  }

  resume(): void {
    if (this.state !== 'paused' || !this.video) return;
    this.state = 'live';
    void this.video.play();
    this.nextFrame(this.session);
  }

  /** The current frame as a JPEG file, at the camera's resolution. */
  snapshot(): Promise<File | null> {
    return this.video && this.stream ? frameFile(this.video) : Promise.resolve(null);
  }

  private fail(error: unknown): void {
    this.stop();
    this.error = error;
    this.state = 'error';
  }

  private nextFrame(session: number): void {
    const video = this.video;
    if (!video || session !== this.session || this.state !== 'live') return;
    const onFrame = () => {
      if (session !== this.session || this.state !== 'live') return;
      void this.offer(session);
      this.nextFrame(session);
    };
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(onFrame);
    else requestAnimationFrame(onFrame);
  }

  /** The frame as the model looks at it: the central square for cropping models, else the whole frame, scaled down. */
  private grab(video: HTMLVideoElement): Promise<ImageBitmap> | null {
    const info = classifier.info?.model;
    const { videoWidth: w, videoHeight: h } = video;
    if (!info || w === 0 || h === 0) return null;
    const [inH, inW] = info.inputSize;
    if (info.fit === 'crop') {
      const side = Math.min(w, h);
      const target = Math.ceil(Math.max(inH, inW) / info.crop);
      return createImageBitmap(video, (w - side) / 2, (h - side) / 2, side, side, {
        resizeWidth: target,
        resizeHeight: target,
        resizeQuality: 'high',
      });
    }
    return createImageBitmap(video, { resizeWidth: inW, resizeHeight: inH, resizeQuality: 'high' });
  }

  private async offer(session: number): Promise<void> {
    if (this.grabbing || !this.video) return;
    this.grabbing = true;
    let bitmap: ImageBitmap | null = null;
    try {
      bitmap = await this.grab(this.video);
    } catch {
      // A frame the browser could not read (the stream is ending): the next one will do.
    } finally {
      this.grabbing = false;
    }
    if (!bitmap) return;
    if (session !== this.session) return bitmap.close();
    if (this.inFlight) {
      this.waiting?.close();
      this.waiting = bitmap;
    } else {
      this.send(bitmap, session);
    }
  }

  private send(bitmap: ImageBitmap, session: number): void {
    this.inFlight = true;
    classifier
      .classifyImage(bitmap, TOP_K)
      .then(
        (result) => session === this.session && this.show(result),
        (error: unknown) => session === this.session && this.fail(error),
      )
      .finally(() => {
        if (session !== this.session) return;
        this.inFlight = false;
        const next = this.waiting;
        this.waiting = null;
        if (next && this.state === 'live') this.send(next, session);
        else next?.close();
      });
  }

  private show(result: ClassifyResult): void {
    const now = performance.now();
    this.recent = [...this.recent.filter((r) => now - r.at < FPS_WINDOW_MS), { at: now, ms: result.ms }];
    const span = Math.max(now - this.recent[0]!.at, 1_000 / 60);
    this.fps = this.recent.length > 1 ? ((this.recent.length - 1) * 1000) / span : 0;
    const lastMs = this.recent.slice(-MS_WINDOW);
    this.workerMs = lastMs.reduce((sum, r) => sum + r.ms, 0) / lastMs.length;
    this.frames++;
    this.tensors = result.memory.tensors;
    this.history = [...this.history, result.predictions].slice(-SMOOTHING_FRAMES);
    this.predictions = this.smoothing ? averagePredictions(this.history, TOP_K) : result.predictions;
  }
}

export const camera = new LiveCamera();
