import type { TrainSummary } from '../core/classifier-types';
import { DEFAULT_TRAIN_OPTIONS, type EpochFigures, type ReviewEntry, type TrainOptions } from '../core/train-options';
import { classifier } from './classifier.svelte';
import { download } from './export-results';
import { inspectImageFile } from '../core/image-header';
import { laterDuplicates, sha256 } from '../core/duplicates';
import { thumbnails } from './thumbnails.svelte';

export type TrainState = 'idle' | 'features' | 'training' | 'done' | 'error';

export interface TrainImage {
  id: number;
  file: File;
  label: string;
  /** Why the image is refused (the same checks as classification); refused images are not trained on. */
  error?: unknown;
}

/** A validation photo's answer after the last run, joined with the photo as it is now. */
export interface ReviewItem {
  image: TrainImage;
  /** The class it had when the model was trained. */
  truth: string;
  /** Whether it was trained on (answered by a head that did not see it) or held out for validation. */
  side: ReviewEntry['side'];
  predicted: string;
  confidence: number;
}

/** Automatic: nearest neighbour while every class is small, else a trained head. */
export type MethodChoice = 'auto' | TrainOptions['method'];

const KEEP_FEATURES = 'glimpse.keepFeatures';

/** Classes below this many images train, but poorly: the view warns, and the automatic method is nearest neighbour. */
export const FEW_IMAGES = 10;
/** The least sure right answers the Review panel shows per class, after every wrong one. */
export const LEAST_SURE = 5;
/** Header checks at once while reading a folder, and how many before the lists are updated. */
const READ_AHEAD = 4;
const CHECK_BATCH = 256;

/** `<root>/<class>/<file>` from a chosen folder, else `<class>__<anything>.<ext>`. */
export function labelOf(file: File): string | null {
  const parts = file.webkitRelativePath.split('/');
  if (parts.length >= 3) return parts.at(-2)!;
  const match = /^(.+?)__/.exec(file.name);
  return match ? match[1]! : null;
}

/** The Train view's data, settings, run and review, as Svelte state; the work itself is the worker's. */
class Training {
  images = $state.raw<TrainImage[]>([]);
  /** Files that named no class. */
  unlabelled = $state(0);
  /** Files dropped because a photo with the same content was already in the set. */
  duplicates = $state(0);
  /** Content digests of photos whose size another shares, by image id (see laterDuplicates). */
  private digests = new Map<number, string>();
  /** Files whose headers are being checked in the background. */
  reading = $state({ done: 0, total: 0 });
  state = $state<TrainState>('idle');
  error = $state.raw<unknown>(null);
  options = $state<TrainOptions>({ ...DEFAULT_TRAIN_OPTIONS });
  method = $state<MethodChoice>('auto');
  features = $state({ done: 0, total: 0 });
  /** When this run's features began, and how many were done then, for the rate and time left. */
  private featureClock = { at: 0, done: 0 };
  featureRate = $state(0);
  history = $state.raw<EpochFigures[]>([]);
  summary = $state.raw<TrainSummary | null>(null);
  /** The images of the last run, by their index in it, with the class each had. */
  private ran: { id: number; label: string }[] = [];
  /** Content keys the worker gave each image: retraining reads no file twice. */
  private keys = new Map<number, string>();
  /** The class that pasted images and camera captures join. */
  selected = $state<string | null>(null);
  /** Keep features in IndexedDB too (on unless turned off here): a reload resumes where features stopped. */
  keepFeatures = $state(typeof localStorage === 'undefined' || localStorage.getItem(KEEP_FEATURES) !== 'no');
  private nextId = 0;
  /** The latest run: progress arrives on the callback's own port, so an event can land after its run's result. */
  private run = 0;

  classes(): { label: string; images: TrainImage[] }[] {
    const byLabel = new Map<string, TrainImage[]>();
    for (const image of this.images) {
      const list = byLabel.get(image.label);
      if (list) list.push(image);
      else byLabel.set(image.label, [image]);
    }
    return [...byLabel.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, images]) => ({ label, images }));
  }

  /** The method a run uses now: the choice, or for `auto` what the class sizes call for. */
  resolvedMethod(): TrainOptions['method'] {
    if (this.method !== 'auto') return this.method;
    const largest = Math.max(0, ...this.classes().map((c) => c.images.filter((i) => !i.error).length));
    return largest < FEW_IMAGES ? 'nearest' : 'head';
  }

  /**
   * Adds files at once, less exact copies of photos already listed (only same-size files are read for
   * that), then checks each one's header (its first and last bytes only) in the
   * background, a batch at a time: thousands of photos list in a moment, and Train need not
   * wait for the checks, since the worker checks what it reads too.
   */
  async add(files: readonly File[], label?: string, { captured = false } = {}): Promise<void> {
    let added = files.flatMap((file): TrainImage[] => {
      const name = label ?? labelOf(file);
      return name ? [{ id: this.nextId++, file, label: name }] : [];
    });
    this.unlabelled += files.length - added.length;
    const all = [...this.images, ...added];
    // A camera capture is a new photo even when the scene stood still (a frame can repeat byte for byte).
    const later = captured
      ? new Set<number>()
      : await laterDuplicates(
          all.map((i) => i.file.size),
          async (at) => {
            const { id, file } = all[at]!;
            const known = this.digests.get(id) ?? (await sha256(await file.arrayBuffer()));
            this.digests.set(id, known);
            return known;
          },
        );
    const first = all.length - added.length;
    added = added.filter((_, k) => !later.has(first + k));
    this.duplicates += later.size;
    this.images = [...this.images, ...added];
    if (label) this.selected = label;
    this.reading = { done: this.reading.done, total: this.reading.total + added.length };
    for (let from = 0; from < added.length; from += CHECK_BATCH) {
      const batch = added.slice(from, from + CHECK_BATCH);
      const refused = new Map<number, unknown>();
      for (let i = 0; i < batch.length; i += READ_AHEAD) {
        await Promise.all(
          batch
            .slice(i, i + READ_AHEAD)
            .map((image) => inspectImageFile(image.file).catch((error: unknown) => refused.set(image.id, error))),
        );
        // A task of its own for each few: the page stays responsive while a run uses every core.
        await new Promise((resume) => setTimeout(resume));
      }
      if (refused.size > 0) this.refuse(refused);
      this.reading = { done: this.reading.done + batch.length, total: this.reading.total };
    }
    if (this.reading.done >= this.reading.total) this.reading = { done: 0, total: 0 };
  }

  private refuse(errors: Map<number, unknown>): void {
    this.images = this.images.map((i) => (errors.has(i.id) ? { ...i, error: errors.get(i.id) } : i));
  }

  setKeepFeatures(keep: boolean): void {
    this.keepFeatures = keep;
    localStorage.setItem(KEEP_FEATURES, keep ? 'yes' : 'no');
  }

  forgetFeatures(): Promise<void> {
    this.keys.clear();
    return classifier.forgetFeatures();
  }

  remove(id: number): void {
    thumbnails.forget(String(id));
    this.keys.delete(id);
    this.digests.delete(id);
    this.images = this.images.filter((i) => i.id !== id);
  }

  /** Moves a photo to another class, in place: its features stay, only its label changes. */
  move(id: number, label: string): void {
    this.images = this.images.map((i) => (i.id === id ? { ...i, label } : i));
  }

  removeClass(label: string): void {
    for (const image of this.images.filter((i) => i.label === label)) {
      thumbnails.forget(String(image.id));
      this.digests.delete(image.id);
    }
    this.images = this.images.filter((i) => i.label !== label);
    if (this.selected === label) this.selected = null;
  }

  /** Seconds of features left at the rate so far, once there is one. */
  secondsLeft(): number | null {
    return this.featureRate > 0 ? (this.features.total - this.features.done) / this.featureRate : null;
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
    this.featureClock = { at: performance.now(), done: 0 };
    this.featureRate = 0;
    this.ran = usable.map((i) => ({ id: i.id, label: i.label }));
    try {
      const summary = await classifier.train(
        usable.map((i) => ({ data: i.file, label: i.label, key: this.keys.get(i.id) })),
        { ...$state.snapshot(this.options), method: this.resolvedMethod() },
        (event) => {
          if (!live()) return;
          if (event.phase === 'features') {
            this.features = { done: event.done, total: event.total };
            const seconds = (performance.now() - this.featureClock.at) / 1000;
            if (seconds > 0.5) this.featureRate = (event.done - this.featureClock.done) / seconds;
          } else if (event.phase === 'refused') {
            this.refuse(
              new Map([
                [this.ran[event.index]!.id, Object.assign(new Error(event.error.message), { name: event.error.name })],
              ]),
            );
          } else {
            this.state = 'training';
            const { phase: _, ...figures } = event;
            this.history = [...this.history, figures];
          }
        },
        this.keepFeatures,
      );
      if (run !== this.run) return;
      summary.keys.forEach((key, i) => key && this.keys.set(this.ran[i]!.id, key));
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

  /**
   * The last run's validation photos that are still here, as they are now: moved ones under
   * their new class, dropped ones gone.
   */
  reviewItems(): ReviewItem[] {
    const summary = this.summary;
    if (!summary) return [];
    const now = new Map(this.images.map((i) => [i.id, i]));
    return summary.review.flatMap((entry) => {
      const ran = this.ran[entry.index];
      const image = ran && now.get(ran.id);
      return image
        ? [
            {
              image,
              truth: ran.label,
              side: entry.side,
              predicted: summary.labels[entry.predicted]!,
              confidence: entry.confidence,
            },
          ]
        : [];
    });
  }

  /** What to look at first: every wrong answer, most confident first (likely mislabelled), then each class's least sure right ones. */
  doubtful(): ReviewItem[] {
    const items = this.reviewItems();
    const wrong = items.filter((i) => i.predicted !== i.truth).sort((a, b) => b.confidence - a.confidence);
    const unsure = new Map<string, ReviewItem[]>();
    for (const item of items.filter((i) => i.predicted === i.truth).sort((a, b) => a.confidence - b.confidence)) {
      const list = unsure.get(item.truth) ?? [];
      if (list.length < LEAST_SURE) unsure.set(item.truth, [...list, item]);
    }
    return [...wrong, ...[...unsure.values()].flat()];
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
    download(
      'glimpse-trained-model.zip',
      'application/zip',
      (await classifier.exportTrained(this.headStorage)) as Uint8Array<ArrayBuffer>,
    );
  }

  /** The photos as they are now (moved, dropped), without refused ones. */
  curated(): { file: File; label: string }[] {
    return this.images.filter((i) => !i.error).map((i) => ({ file: i.file, label: i.label }));
  }
}

export const training = new Training();
