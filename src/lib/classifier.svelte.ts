import { proxy, transfer, wrap, type Remote } from 'comlink';
import type { ClassifierApi } from '../../workers/api';
import type { BackendName, BackendPreference } from '../core/backends';
import type { ClassifyResult, InputCorrection, LoadProgress, ModelInfo, StoredModel, TrainEvent, TrainImageInput, TrainSummary, WorkerDiagnostics } from '../core/classifier-types';
import type { TrainOptions } from '../core/train-options';
import type { Heatmap } from '../core/occlusion';
import type { PreparedModel } from '../../workers/model-import';
import type { OnnxImportOptions } from '../../workers/onnx-import';
import { buffersOf } from '../core/transferables';
import { Activity } from './activity';
import { prepareModelFiles } from './import-worker';
import { classifierWorker, MODEL_URL } from './worker-start';
import { checkBitmap, decodeImage } from './decode';
import { diagnostics } from './diagnostics.svelte';
import type { ImageHeader } from '../core/image-header';

export type ModelState = 'loading' | 'warming' | 'ready' | 'error';

/** How long a photo may wait for its answer before its preview is shown anyway. */
const PREVIEW_DELAY_MS = 100;
/** Training images a message carries: about 30 ms of the page's time each. */
const STAGE_SLICE = 100;

/** User Timing marks of the load phases, which `npm run bench` reads. */
export function markOnce(name: string): void {
  if (performance.getEntriesByName(name).length === 0) performance.mark(name);
}

/**
 * The only owner of the classifier worker, for the app's lifetime. It holds what the
 * UI shows about the model as Svelte state, and classifies one image at a time.
 */
class Classifier {
  state = $state<ModelState>('loading');
  download = $state({ loaded: 0, total: 0 });
  warmingOn = $state<BackendName | null>(null);
  info = $state.raw<ModelInfo | null>(null);
  loadError = $state.raw<unknown>(null);
  preference = $state<BackendPreference>('auto');
  /** The user's stored models (the built-in one is not listed here). */
  models = $state.raw<StoredModel[]>([]);

  private readonly remote: Remote<ClassifierApi>;
  private readonly onProgress = proxy((event: LoadProgress) => this.progress(event));
  private readonly listeners = new Set<(event: LoadProgress) => void>();
  private readonly activity = new Activity();
  private loading: Promise<ModelInfo> | null = null;
  private choiceMade: () => void = () => undefined;
  private readonly choice = new Promise<void>((done) => (this.choiceMade = done));

  constructor() {
    this.remote = wrap<ClassifierApi>(classifierWorker);
  }

  /** The one place the model becomes ready: after a load, a backend switch, or a background choice. */
  private ready(info: ModelInfo): void {
    markOnce('glimpse:ready');
    this.info = info;
    this.state = 'ready';
    if (info.choice.reason !== 'measuring') this.choiceMade();
  }

  private failed(error: unknown): void {
    this.loadError = error;
    this.state = 'error';
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
      this.ready(event.info);
    }
  }

  /** `model` runs a shipped model for this page only (the embed frame's ?model=). */
  async load(preference: BackendPreference = this.preference, model?: string): Promise<void> {
    this.preference = preference;
    this.state = 'loading';
    this.download = { loaded: 0, total: 0 };
    this.loadError = null;
    this.loading = this.remote.load(MODEL_URL, this.onProgress, { backend: preference, ...(model ? { model } : {}) });
    try {
      this.ready(await this.loading);
    } catch (error) {
      this.failed(error);
    }
  }

  /** The model once loaded; rejects with the load error (a retry replaces it). */
  loaded(): Promise<ModelInfo> {
    return this.loading ?? Promise.reject(new Error('load() has not been called'));
  }

  /** Resolves once the first model's backend is chosen: forced, or measured in the background after the first answer. */
  chosen(): Promise<void> {
    return this.choice;
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
    return this.activity.idle();
  }

  /** Counts `work` (a whole batch, say) as running until it settles, so `idle()` waits for it. */
  busyWith<T>(work: () => Promise<T>): Promise<T> {
    return this.activity.track(work);
  }

  /**
   * One image, checked (a Blob by its header, a bitmap by its size) and classified in
   * the worker. `checked` hears a Blob's header once it has passed, when its answer
   * comes or PREVIEW_DELAY_MS after the image went to the worker, whichever is first:
   * showing a photo decodes and paints it again, and on a 2-core device that work slowed
   * the model's run it overlapped (one photo at a time, 6 interleaved rounds: 26–35 ms per
   * photo with the preview painted meanwhile, 21–28 ms with it painted after).
   */
  classifyImage(image: Blob | ImageBitmap, topK = 5, checked?: (header: ImageHeader) => void): Promise<ClassifyResult> {
    return this.activity.track(async () => {
      if (!(image instanceof Blob)) return this.remote.classify(transfer(checkBitmap(image), [image]), topK);
      const { bitmap, header } = await decodeImage(image, this.info?.model);
      let shown = false;
      const show = () => {
        if (shown) return;
        shown = true;
        checked?.(header);
      };
      const timer = setTimeout(show, PREVIEW_DELAY_MS);
      try {
        return await this.remote.classify(transfer(bitmap, [bitmap]), topK);
      } finally {
        clearTimeout(timer);
        show();
      }
    }).then(
      (result) => (diagnostics.recordResult(result), result),
      (error: unknown) => {
        diagnostics.recordError(error);
        throw error;
      },
    );
  }

  /** Where the model looked in a photo for a class (its top-1 when null): an occlusion map from the worker. */
  async explain(image: Blob, classIndex: number | null, onProgress: (done: number, total: number) => void): Promise<Heatmap> {
    const { bitmap } = await decodeImage(image);
    return this.remote.explain(transfer(bitmap, [bitmap]), classIndex, proxy(onProgress));
  }

  cancelExplain(): void {
    void this.remote.cancelExplain();
  }

  async refreshModels(): Promise<void> {
    this.models = await this.remote.models();
  }

  /**
   * Imports the user's model files (a folder's files, or a .zip, or a .tflite and labels)
   * and makes the model active; the current model keeps running if anything is wrong.
   */
  async importModel(files: readonly File[], options: OnnxImportOptions = {}): Promise<void> {
    const source = files.length === 1 ? files[0]!.name : `${files.length} files (${files.map((f) => f.name).slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''})`;
    const info = await this.activity.track(async () => this.remote.importModel(await this.prepared(files, options), source));
    this.ready(info);
    await this.refreshModels();
  }

  /** The files read and converted in a worker of their own, handed over to the classifier worker without a copy. */
  private async prepared(files: readonly File[], options: OnnxImportOptions): Promise<PreparedModel> {
    const prepared = await prepareModelFiles(files, options);
    return transfer(prepared, buffersOf(prepared.files));
  }

  async useModel(id: string): Promise<void> {
    this.ready(await this.activity.track(() => this.remote.useModel(id)));
  }

  async deleteModel(id: string): Promise<void> {
    this.ready(await this.remote.deleteModel(id));
    await this.refreshModels();
  }

  /** Keeps a fitted temperature with the running model (null: its own again). */
  async calibrate(temperature: number | null): Promise<void> {
    this.ready(await this.remote.calibrate(temperature));
  }

  async correctModel(id: string, input: InputCorrection): Promise<void> {
    this.ready(await this.remote.correctModel(id, input));
    await this.refreshModels();
  }

  /**
   * Trains a classifier on labelled images in the worker (see the Train view). The images go
   * over in slices first: posting a File costs the page a fraction of a millisecond, so
   * thousands in one message would freeze it for a second or more.
   */
  train(images: TrainImageInput[], options: Partial<TrainOptions>, onProgress: (event: TrainEvent) => void, keepFeatures: boolean): Promise<TrainSummary> {
    return this.activity.track(async () => {
      for (let from = 0; from === 0 || from < images.length; from += STAGE_SLICE) await this.remote.stageTraining(images.slice(from, from + STAGE_SLICE), from === 0);
      return this.remote.train(options, proxy(onProgress), keepFeatures);
    });
  }

  cancelTraining(): Promise<void> {
    return this.remote.cancelTraining();
  }

  forgetFeatures(): Promise<void> {
    return this.remote.forgetFeatures();
  }

  async useTrained(): Promise<void> {
    this.ready(await this.remote.useTrained());
    await this.refreshModels();
  }

  exportTrained(storage: 'float32' | 'float16' | 'uint8' = 'float32'): Promise<Uint8Array> {
    return this.remote.exportTrained(storage);
  }

  /** The worker's runtime facts, for the diagnostics panel while it is open. */
  workerDiagnostics(): Promise<WorkerDiagnostics> {
    return this.remote.diagnostics();
  }

  async setBackend(preference: BackendPreference): Promise<void> {
    if (this.state === 'error' || !this.info) return this.load(preference);
    this.preference = preference;
    try {
      this.ready(await this.remote.setBackend(preference));
    } catch (error) {
      this.failed(error);
    }
  }
}

export const classifier = new Classifier();
