import { proxy, transfer, wrap, type Remote } from 'comlink';
import type { ClassifierApi, ClassifyResult, LoadProgress, ModelInfo } from '../../workers/api';
import { isBackendName, type BackendName, type BackendPreference } from '../../workers/backend-choice';
import { CancelledError } from '../core/errors';
import { checkBitmap, decodeImage, previewUrl } from './decode';

export type ModelState = 'loading' | 'warming' | 'ready' | 'error';

export interface ImageResult {
  id: number;
  name: string;
  /** Set once the file passed the checks: a blob: URL typed as the detected image format. */
  previewUrl?: string;
  status: 'pending' | 'done' | 'error';
  result?: ClassifyResult;
  error?: unknown;
}

const MODEL_URL = `${import.meta.env.BASE_URL}model/`;

/** User Timing marks of the load phases, which `npm run bench` reads. */
function markOnce(name: string): void {
  if (performance.getEntriesByName(name).length === 0) performance.mark(name);
}

/** The `?backend=` URL parameter, when it names a backend, forces it. */
export function backendFromUrl(search: string): BackendPreference {
  const value = new URLSearchParams(search).get('backend');
  return isBackendName(value) ? value : 'auto';
}

/**
 * The only owner of the classifier worker, for the app's lifetime. It holds what
 * the UI shows about the model and the images, as Svelte state.
 */
class Classifier {
  state = $state<ModelState>('loading');
  download = $state({ loaded: 0, total: 0 });
  warmingOn = $state<BackendName | null>(null);
  info = $state.raw<ModelInfo | null>(null);
  loadError = $state.raw<unknown>(null);
  preference = $state<BackendPreference>('auto');
  results = $state.raw<ImageResult[]>([]);
  /** Progress of the current batch; `startedAt` is a performance.now() time. */
  progressOf = $state({ done: 0, total: 0, startedAt: 0 });

  private readonly remote: Remote<ClassifierApi>;
  private readonly onProgress = proxy((event: LoadProgress) => this.progress(event));
  private readonly listeners = new Set<(event: LoadProgress) => void>();
  private loading: Promise<ModelInfo> | null = null;
  private batch = 0;
  private nextId = 0;
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor() {
    const worker = new Worker(new URL('../../workers/classifier.worker.ts', import.meta.url), { type: 'module', name: 'glimpse-classifier' });
    this.remote = wrap<ClassifierApi>(worker);
  }

  private progress(event: LoadProgress): void {
    for (const listener of this.listeners) listener(event);
    // Byte counts only: parallel downloads still report after a sibling file has failed the load.
    if (event.phase === 'download') {
      this.download = { loaded: event.loaded, total: event.total };
      if (event.loaded === event.total && event.total > 0) markOnce('glimpse:model-downloaded');
    } else if (event.phase === 'warmup') {
      markOnce('glimpse:warmup');
      this.state = 'warming';
      this.warmingOn = event.backend;
    } else {
      markOnce('glimpse:ready');
      this.info = event.info;
      this.state = 'ready';
    }
  }

  async load(preference: BackendPreference = this.preference): Promise<void> {
    this.preference = preference;
    this.state = 'loading';
    this.download = { loaded: 0, total: 0 };
    this.loadError = null;
    this.loading = this.remote.load(MODEL_URL, this.onProgress, { backend: preference });
    try {
      this.info = await this.loading;
      this.state = 'ready';
    } catch (error) {
      this.loadError = error;
      this.state = 'error';
    }
  }

  /** The model once loaded; rejects with the load error (a retry replaces it). */
  loaded(): Promise<ModelInfo> {
    return this.loading ?? Promise.reject(new Error('load() has not been called'));
  }

  /** Hears download, warm-up and ready events, e.g. to relay them to an embedding page. */
  subscribe(listener: (event: LoadProgress) => void): void {
    this.listeners.add(listener);
  }

  /** The model's class names, once it has loaded. */
  async labels(): Promise<string[]> {
    await this.loaded();
    return this.remote.labels();
  }

  /** Resolves when no classification is running, e.g. before an update reloads the page. */
  idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async track<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      if (--this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** One image, checked (a Blob by its header, a bitmap by its size) and classified in the worker. */
  classifyImage(image: Blob | ImageBitmap, topK = 5): Promise<ClassifyResult> {
    return this.track(async () => {
      const bitmap = image instanceof Blob ? (await decodeImage(image)).bitmap : checkBitmap(image);
      return this.remote.classify(transfer(bitmap, [bitmap]), topK);
    });
  }

  /** A file of a batch: its preview appears only once its bytes have passed the checks. */
  private async classifyItem(file: File, id: number, topK: number): Promise<ClassifyResult> {
    const { bitmap, header } = await decodeImage(file);
    this.update(id, { previewUrl: previewUrl(file, header) });
    return this.remote.classify(transfer(bitmap, [bitmap]), topK);
  }

  async setBackend(preference: BackendPreference): Promise<void> {
    if (this.state === 'error' || !this.info) return this.load(preference);
    this.preference = preference;
    try {
      this.info = await this.remote.setBackend(preference);
      this.state = 'ready';
    } catch (error) {
      this.loadError = error;
      this.state = 'error';
    }
  }

  private update(id: number, patch: Partial<ImageResult>): void {
    this.results = this.results.map((r) => (r.id === id ? { ...r, ...patch } : r));
  }

  /** Classifies files in order; a newer selection supersedes one still running. */
  classifyFiles(files: readonly File[], topK = 5): Promise<void> {
    return this.track(() => this.classifyBatch(files, topK));
  }

  private async classifyBatch(files: readonly File[], topK: number): Promise<void> {
    const batch = ++this.batch;
    for (const old of this.results) if (old.previewUrl) URL.revokeObjectURL(old.previewUrl);
    const items = files.map((file) => ({ id: this.nextId++, name: file.name || 'pasted image', status: 'pending' as const }));
    this.results = items;
    this.progressOf = { done: 0, total: files.length, startedAt: performance.now() };
    // Two images in flight: the next one decodes on the page while the worker runs the current one.
    const inFlight: Promise<void>[] = [];
    for (const [i, file] of files.entries()) {
      if (batch !== this.batch) break;
      const id = items[i]!.id;
      inFlight.push(
        this.track(() => this.classifyItem(file, id, topK)).then(
          (result) => this.settle(batch, id, { status: 'done', result }),
          (error: unknown) => this.settle(batch, id, { status: 'error', error }),
        ),
      );
      if (inFlight.length >= 2) await inFlight.shift();
    }
    await Promise.all(inFlight);
  }

  private settle(batch: number, id: number, patch: Partial<ImageResult>): void {
    if (batch !== this.batch) return;
    if (patch.status === 'done') markOnce('glimpse:first-result');
    this.update(id, patch);
    this.progressOf = { ...this.progressOf, done: this.progressOf.done + 1 };
  }

  /** Stops the running batch: images not yet classified are marked cancelled. */
  cancel(): void {
    this.batch++;
    this.results = this.results.map((r) => (r.status === 'pending' ? { ...r, status: 'error', error: new CancelledError('cancelled') } : r));
  }
}

export const classifier = new Classifier();
