import { proxy, transfer, wrap, type Remote } from 'comlink';
import type { ClassifierApi, ClassifyResult, LoadProgress, ModelInfo } from '../../workers/api';
import { isBackendName, type BackendName, type BackendPreference } from '../../workers/backend-choice';
import { decodeImage } from './decode';

export type ModelState = 'loading' | 'warming' | 'ready' | 'error';

export interface ImageResult {
  id: number;
  name: string;
  previewUrl: string;
  status: 'pending' | 'done' | 'error';
  result?: ClassifyResult;
  error?: unknown;
}

const MODEL_URL = `${import.meta.env.BASE_URL}model/`;

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

  private readonly remote: Remote<ClassifierApi>;
  private readonly onProgress = proxy((event: LoadProgress) => this.progress(event));
  private batch = 0;
  private nextId = 0;

  constructor() {
    const worker = new Worker(new URL('../../workers/classifier.worker.ts', import.meta.url), { type: 'module', name: 'glimpse-classifier' });
    this.remote = wrap<ClassifierApi>(worker);
  }

  private progress(event: LoadProgress): void {
    if (event.phase === 'download') {
      this.state = 'loading';
      this.download = { loaded: event.loaded, total: event.total };
    } else if (event.phase === 'warmup') {
      this.state = 'warming';
      this.warmingOn = event.backend;
    } else {
      this.info = event.info;
      this.state = 'ready';
    }
  }

  async load(preference: BackendPreference = this.preference): Promise<void> {
    this.preference = preference;
    this.state = 'loading';
    this.loadError = null;
    try {
      this.info = await this.remote.load(MODEL_URL, this.onProgress, { backend: preference });
      this.state = 'ready';
    } catch (error) {
      this.loadError = error;
      this.state = 'error';
    }
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
  async classifyFiles(files: readonly File[], topK = 5): Promise<void> {
    const batch = ++this.batch;
    for (const old of this.results) URL.revokeObjectURL(old.previewUrl);
    const items = files.map((file) => ({ id: this.nextId++, name: file.name || 'pasted image', previewUrl: URL.createObjectURL(file), status: 'pending' as const }));
    this.results = items;
    for (const [i, file] of files.entries()) {
      if (batch !== this.batch) return;
      const id = items[i]!.id;
      try {
        const { bitmap } = await decodeImage(file);
        const result = await this.remote.classify(transfer(bitmap, [bitmap]), topK);
        if (batch === this.batch) this.update(id, { status: 'done', result });
      } catch (error) {
        if (batch === this.batch) this.update(id, { status: 'error', error });
      }
    }
  }
}

export const classifier = new Classifier();
