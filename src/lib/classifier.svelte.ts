import { proxy, transfer, wrap, type Remote } from 'comlink';
import type { ClassifierApi } from '../../workers/api';
import type { BackendName, BackendPreference } from '../core/backends';
import {
  BUILTIN_MODEL,
  TRIAL_MODEL,
  type ClassifyResult,
  type DistillEvent,
  type DistillRequest,
  type DistillSummary,
  type ImportStep,
  type InputCorrection,
  type LoadOptions,
  type LoadProgress,
  type ModelInfo,
  type StoredModel,
  type TrainEvent,
  type TrainImageInput,
  type TrainSummary,
  type WorkerDiagnostics,
} from '../core/classifier-types';
import { CancelledError } from '../core/errors';
import type { StudentName } from '../core/students';
import type { TrainOptions } from '../core/train-options';
import type { Heatmap } from '../core/occlusion';
import type { PreparedModel } from '../../model/prepared-model';
import type { ImportOptions } from '../../model/prepared-model';
import { buffersOf } from '../core/transferables';
import { Activity } from './activity';
import { prepareModelFiles, prepareStudent } from './import-worker';
import { classifierWorker, MODEL_URL, startClassifierWorker } from './worker-start';
import { RunWatchdog, stoppedError, trialError, type Trip } from './run-watchdog';
import { checkBitmap, decodeImage } from './decode';
import { diagnostics } from './diagnostics.svelte';
import type { ImageHeader } from '../core/image-header';

export type ModelState = 'loading' | 'warming' | 'ready' | 'error';

/** How long a photo may wait for its answer before its preview is shown anyway. */
const PREVIEW_DELAY_MS = 100;
/** Training images a message carries: about 30 ms of the page's time each. */
const STAGE_SLICE = 100;
/** Choosing a model while a run has gone on this long ends the worker instead of waiting behind the run. */
const SWITCH_PAST_RUN_MS = 2_000;
/** How often a model choice that waits looks at whether a run holds it up. */
const SWITCH_CHECK_MS = 250;

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
  /** Where the import going on is, for the Models view; null when none is. */
  importStep = $state<ImportStep | null>(null);

  /** The worker of the moment: the watchdog ends one whose model hangs or fills memory, and starts another. */
  private worker!: Worker;
  private remote!: Remote<ClassifierApi>;
  private watchdog!: RunWatchdog;
  /** The port the next load hands the worker, on which it tells the watchdog its runs. */
  private runPort: MessagePort | null = null;
  /** Rejects every call still waiting on the worker when it is ended. */
  private lost!: Promise<never>;
  private loseWorker: (error: Error) => void = () => undefined;
  private loadOptions: LoadOptions = {};
  private readonly onProgress = proxy((event: LoadProgress) => this.progress(event));
  private readonly listeners = new Set<(event: LoadProgress) => void>();
  private readonly activity = new Activity();
  private loading: Promise<ModelInfo> | null = null;
  private choiceMade: () => void = () => undefined;
  private readonly choice = new Promise<void>((done) => (this.choiceMade = done));

  constructor() {
    this.attach(classifierWorker);
  }

  private attach(worker: Worker): void {
    this.worker = worker;
    this.remote = wrap<ClassifierApi>(worker);
    this.lost = new Promise<never>((_, fail) => (this.loseWorker = fail));
    this.lost.catch(() => undefined);
    const channel = new MessageChannel();
    this.watchdog = new RunWatchdog(channel.port1, (trip) => void this.restart(trip));
    this.runPort = channel.port2;
  }

  /** A call to the worker, which ends with the worker's answer or with the error that ended the worker. */
  private call<T>(work: (remote: Remote<ClassifierApi>) => Promise<T>): Promise<T> {
    return Promise.race([work(this.remote), this.lost]);
  }

  /** The worker's load, handing it the watchdog's port the first time. */
  private loadWorker(options: LoadOptions): Promise<ModelInfo> {
    const port = this.runPort;
    this.runPort = null;
    return this.call((remote) => remote.load(MODEL_URL, this.onProgress, options, port && transfer(port, [port])));
  }

  /**
   * Ends the worker and starts another: after the watchdog tripped (`trip`: the model it stopped
   * no longer runs, and says why; a trial's model fails only its import), or to change models past
   * a hung run (`use`). Every call waiting on the old worker ends with the reason.
   */
  private async restart(trip: Trip | null, use?: string): Promise<ModelInfo> {
    const trial = trip?.model === TRIAL_MODEL;
    const reason = trip ? (trial ? trialError(trip) : stoppedError(trip)) : new CancelledError('the model was changed');
    this.watchdog.dispose();
    this.loseWorker(reason);
    this.worker.terminate();
    this.attach(startClassifierWorker());
    const failed = trip && !trial ? { id: trip.model, error: reason.name, message: trip.detail } : undefined;
    // A shipped or built-in model that hung is dropped for this page, and the built-in one runs on WebAssembly.
    if (failed && (failed.id === BUILTIN_MODEL || failed.id === this.loadOptions.model)) {
      const { model: _, ...rest } = this.loadOptions;
      this.loadOptions = { ...rest, backend: 'wasm' };
      this.preference = 'wasm';
    }
    this.state = 'loading';
    this.loading = this.loadWorker({ ...this.loadOptions, ...(failed ? { failed } : {}), ...(use ? { use } : {}) });
    try {
      const info = await this.loading;
      this.ready(info);
      await this.refreshModels().catch(() => undefined);
      return info;
    } catch (error) {
      this.failed(error);
      throw error;
    }
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
    this.loadOptions = { backend: preference, ...(model ? { model } : {}) };
    this.loading = this.loadWorker(this.loadOptions);
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
    return this.call((remote) => remote.labels());
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
    return this.activity
      .track(async () => {
        if (!(image instanceof Blob))
          return this.call((remote) => remote.classify(transfer(checkBitmap(image), [image]), topK));
        const { bitmap, header } = await decodeImage(image, this.info?.model);
        let shown = false;
        const show = () => {
          if (shown) return;
          shown = true;
          checked?.(header);
        };
        const timer = setTimeout(show, PREVIEW_DELAY_MS);
        try {
          return await this.call((remote) => remote.classify(transfer(bitmap, [bitmap]), topK));
        } finally {
          clearTimeout(timer);
          show();
        }
      })
      .then(
        (result) => (diagnostics.recordResult(result), result),
        (error: unknown) => {
          diagnostics.recordError(error);
          throw error;
        },
      );
  }

  /** Where the model looked in a photo for a class (its top-1 when null): an occlusion map from the worker. */
  async explain(
    image: Blob,
    classIndex: number | null,
    onProgress: (done: number, total: number) => void,
  ): Promise<Heatmap> {
    const { bitmap } = await decodeImage(image);
    return this.call((remote) => remote.explain(transfer(bitmap, [bitmap]), classIndex, proxy(onProgress)));
  }

  cancelExplain(): void {
    void this.call((remote) => remote.cancelExplain()).catch(() => undefined);
  }

  async refreshModels(): Promise<void> {
    this.models = await this.call((remote) => remote.models());
  }

  /**
   * Imports the user's model files (a folder's files, or a .zip, or a .tflite and labels)
   * and makes the model active; the current model keeps running if anything is wrong.
   */
  async importModel(files: readonly File[], options: ImportOptions = {}): Promise<void> {
    const source =
      files.length === 1
        ? files[0]!.name
        : `${files.length} files (${files
            .map((f) => f.name)
            .slice(0, 3)
            .join(', ')}${files.length > 3 ? ', …' : ''})`;
    this.importStep = 'reading';
    try {
      const info = await this.activity.track(async () => {
        const prepared = await this.prepared(files, options);
        return this.call((remote) =>
          remote.importModel(
            prepared,
            source,
            proxy((step: ImportStep) => void (this.importStep = step)),
          ),
        );
      });
      this.ready(info);
      await this.refreshModels();
    } finally {
      this.importStep = null;
    }
  }

  /** The files read and converted in a worker of their own, handed over to the classifier worker without a copy. */
  private async prepared(files: readonly File[], options: ImportOptions): Promise<PreparedModel> {
    const prepared = await prepareModelFiles(files, options);
    return transfer(prepared, buffersOf(prepared.files));
  }

  /**
   * Makes a model the active one. A run of another model going on for seconds (one that hangs, say) would hold the
   * choice up, whether it started before the choice or while the choice waits behind it: the worker is then ended
   * and the choice made in a new one.
   */
  async useModel(id: string): Promise<void> {
    const blocked = () => this.watchdog.busyMs(id) > SWITCH_PAST_RUN_MS;
    if (!blocked()) {
      const switching = this.activity.track(() => this.call((remote) => remote.useModel(id)));
      const settled = switching.then(
        () => true,
        () => true,
      );
      const waited = () => new Promise<false>((done) => setTimeout(() => done(false), SWITCH_CHECK_MS));
      while (!blocked()) if (await Promise.race([settled, waited()])) return this.ready(await switching);
      switching.catch(() => undefined);
    }
    await this.restart(null, id);
  }

  modelBytes(id: string): Promise<number | null> {
    return this.call((remote) => remote.modelBytes(id));
  }

  exportModel(id: string): Promise<Uint8Array> {
    return this.call((remote) => remote.exportModel(id));
  }

  async deleteModel(id: string): Promise<void> {
    this.ready(await this.call((remote) => remote.deleteModel(id)));
    await this.refreshModels();
  }

  /** Keeps a fitted temperature with the running model (null: its own again). */
  async calibrate(temperature: number | null): Promise<void> {
    this.ready(await this.call((remote) => remote.calibrate(temperature)));
  }

  async correctModel(id: string, input: InputCorrection): Promise<void> {
    this.ready(await this.call((remote) => remote.correctModel(id, input)));
    await this.refreshModels();
  }

  /** Gives a stored model the labels in `file` (one that came without labels, or with wrong ones). */
  async relabelModel(id: string, file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    this.ready(
      await this.call((remote) => remote.relabelModel(id, transfer({ name: file.name, bytes }, [bytes.buffer]))),
    );
    await this.refreshModels();
  }

  /**
   * Trains a classifier on labelled images in the worker (see the Train view). The images go
   * over in slices first: posting a File costs the page a fraction of a millisecond, so
   * thousands in one message would freeze it for a second or more.
   */
  train(
    images: TrainImageInput[],
    options: Partial<TrainOptions>,
    onProgress: (event: TrainEvent) => void,
    keepFeatures: boolean,
  ): Promise<TrainSummary> {
    return this.activity.track(async () => {
      await this.stage(images);
      return this.call((remote) => remote.train(options, proxy(onProgress), keepFeatures));
    });
  }

  /** Sends a run's photos to the worker in slices (see train). */
  private async stage(images: readonly TrainImageInput[]): Promise<void> {
    for (let from = 0; from === 0 || from < images.length; from += STAGE_SLICE)
      await this.call((remote) => remote.stageTraining(images.slice(from, from + STAGE_SLICE), from === 0));
  }

  /**
   * Makes a smaller model of the active one ("Make a smaller model"): the student's backbone is
   * fetched from the site, checked against its digest and converted in the import worker, then
   * taught by the active model on `photos` in the classifier worker and stored.
   */
  distill(
    photos: readonly File[],
    student: StudentName,
    request: DistillRequest,
    onProgress: (event: DistillEvent) => void,
  ): Promise<DistillSummary> {
    return this.activity.track(async () => {
      const backbone = await prepareStudent(student);
      await this.stage(photos.map((data) => ({ data, label: '' })));
      const summary = await this.call((remote) =>
        remote.distill(transfer(backbone, buffersOf(backbone.files)), request, proxy(onProgress)),
      );
      await this.refreshModels();
      return summary;
    });
  }

  cancelDistill(): Promise<void> {
    return this.call((remote) => remote.cancelDistill());
  }

  cancelTraining(): Promise<void> {
    return this.call((remote) => remote.cancelTraining());
  }

  forgetFeatures(): Promise<void> {
    return this.call((remote) => remote.forgetFeatures());
  }

  async useTrained(): Promise<void> {
    this.ready(await this.call((remote) => remote.useTrained()));
    await this.refreshModels();
  }

  exportTrained(storage: 'float32' | 'float16' | 'uint8' = 'float32'): Promise<Uint8Array> {
    return this.call((remote) => remote.exportTrained(storage));
  }

  /** The worker's runtime facts, for the diagnostics panel while it is open. */
  workerDiagnostics(): Promise<WorkerDiagnostics> {
    return this.call((remote) => remote.diagnostics());
  }

  async setBackend(preference: BackendPreference): Promise<void> {
    if (this.state === 'error' || !this.info) return this.load(preference);
    this.preference = preference;
    try {
      this.ready(await this.call((remote) => remote.setBackend(preference)));
    } catch (error) {
      this.failed(error);
    }
  }
}

export const classifier = new Classifier();
