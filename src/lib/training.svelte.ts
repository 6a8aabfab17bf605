import type { TrainSummary } from '../core/classifier-types';
import { DEFAULT_TRAIN_OPTIONS, type EpochFigures, type TrainOptions } from '../core/train-options';
import { classifier } from './classifier.svelte';
import { previewUrl } from './decode';
import { download } from './export-results';
import { inspectImage } from './image-header';

export type TrainState = 'idle' | 'features' | 'training' | 'done' | 'error';

export interface TrainImage {
  id: number;
  file: File;
  label: string;
  /** A typed preview, once the file passed the image checks. */
  previewUrl?: string;
  /** Why the image is refused (the same checks as classification); refused images are not trained on. */
  error?: unknown;
}

const KEEP_FEATURES = 'glimpse.keepFeatures';

/** Classes below this many images train, but poorly: the view warns. */
export const FEW_IMAGES = 10;

/** `<root>/<class>/<file>` from a chosen folder, else `<class>__<anything>.<ext>`. */
export function labelOf(file: File): string | null {
  const parts = file.webkitRelativePath.split('/');
  if (parts.length >= 3) return parts.at(-2)!;
  const match = /^(.+?)__/.exec(file.name);
  return match ? match[1]! : null;
}

/** The Train view's data, settings and run, as Svelte state; the work itself is the worker's. */
class Training {
  images = $state.raw<TrainImage[]>([]);
  /** Files that named no class. */
  unlabelled = $state(0);
  state = $state<TrainState>('idle');
  error = $state.raw<unknown>(null);
  options = $state<TrainOptions>({ ...DEFAULT_TRAIN_OPTIONS });
  features = $state({ done: 0, total: 0 });
  history = $state.raw<EpochFigures[]>([]);
  summary = $state.raw<TrainSummary | null>(null);
  /** The class that pasted images and camera captures join. */
  selected = $state<string | null>(null);
  /** Keep features in IndexedDB too: a preference of this device, so it is remembered. */
  keepFeatures = $state(typeof localStorage !== 'undefined' && localStorage.getItem(KEEP_FEATURES) === 'yes');
  private nextId = 0;
  /** The latest run: progress arrives on the callback's own port, so an event can land after its run's result. */
  private run = 0;

  classes(): { label: string; images: TrainImage[] }[] {
    const byLabel = new Map<string, TrainImage[]>();
    for (const image of this.images) byLabel.set(image.label, [...(byLabel.get(image.label) ?? []), image]);
    return [...byLabel.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, images]) => ({ label, images }));
  }

  async add(files: readonly File[], label?: string): Promise<void> {
    const added: TrainImage[] = [];
    let unlabelled = 0;
    for (const file of files) {
      const name = label ?? labelOf(file);
      if (!name) {
        unlabelled++;
        continue;
      }
      const image: TrainImage = { id: this.nextId++, file, label: name };
      try {
        image.previewUrl = previewUrl(file, inspectImage(new Uint8Array(await file.arrayBuffer())));
      } catch (error) {
        image.error = error;
      }
      added.push(image);
    }
    this.images = [...this.images, ...added];
    this.unlabelled += unlabelled;
    if (label) this.selected = label;
  }

  setKeepFeatures(keep: boolean): void {
    this.keepFeatures = keep;
    localStorage.setItem(KEEP_FEATURES, keep ? 'yes' : 'no');
  }

  forgetFeatures(): Promise<void> {
    return classifier.forgetFeatures();
  }

  remove(id: number): void {
    const image = this.images.find((i) => i.id === id);
    if (image?.previewUrl) URL.revokeObjectURL(image.previewUrl);
    this.images = this.images.filter((i) => i.id !== id);
  }

  removeClass(label: string): void {
    for (const image of this.images.filter((i) => i.label === label)) this.remove(image.id);
    if (this.selected === label) this.selected = null;
  }

  async start(): Promise<void> {
    const usable = this.images.filter((i) => !i.error);
    const run = ++this.run;
    // Once the run has ended (done, failed) or another has begun, its late events change nothing.
    const live = () => run === this.run && (this.state === 'features' || this.state === 'training');
    this.state = 'features';
    this.error = null;
    this.summary = null;
    this.history = [];
    this.features = { done: 0, total: usable.length };
    try {
      const summary = await classifier.train(
        usable.map((i) => ({ data: i.file, label: i.label })),
        $state.snapshot(this.options),
        (event) => {
          if (!live()) return;
          if (event.phase === 'features') this.features = { done: event.done, total: event.total };
          else {
            this.state = 'training';
            const { phase: _, ...figures } = event;
            this.history = [...this.history, figures];
          }
        },
        this.keepFeatures,
      );
      if (run !== this.run) return;
      this.summary = summary;
      // The result's own history is complete, whatever progress events are still on their way.
      this.history = summary.history;
      this.state = 'done';
    } catch (error) {
      if (run !== this.run) return;
      this.error = error;
      this.state = 'error';
    }
  }

  cancel(): Promise<void> {
    return classifier.cancelTraining();
  }

  use(): Promise<void> {
    return classifier.useTrained();
  }

  /** How the downloaded model stores the head's kernels. */
  headStorage = $state<'float32' | 'float16' | 'uint8'>('float32');

  async download(): Promise<void> {
    download('glimpse-trained-model.zip', 'application/zip', (await classifier.exportTrained(this.headStorage)) as Uint8Array<ArrayBuffer>);
  }
}

export const training = new Training();
