import type { DistillSummary } from '../core/classifier-types';
import { isImageFileName } from '../core/image-files';
import type { EpochFigures } from '../core/train-options';
import { DEFAULT_STUDENT, type StudentName } from '../core/students';
import { classifier } from './classifier.svelte';

export type DistillState = 'idle' | 'photos' | 'training' | 'storing' | 'done' | 'error';

/** "Make a smaller model" in the Models view, as Svelte state; the work itself is the workers'. */
class Distillation {
  /** The user's photos (a folder's subfolders too; their names are ignored: no labels are needed). */
  photos = $state.raw<File[]>([]);
  student = $state<StudentName>(DEFAULT_STUDENT);
  /** The teacher's classes to keep, comma separated (names or indices); empty: all of them. */
  classes = $state('');
  state = $state<DistillState>('idle');
  error = $state.raw<unknown>(null);
  progress = $state({ done: 0, total: 0 });
  /** Photos answered per second so far, for the time left. */
  rate = $state(0);
  refused = $state(0);
  history = $state.raw<EpochFigures[]>([]);
  summary = $state.raw<DistillSummary | null>(null);
  private run = 0;

  get running(): boolean {
    return this.state === 'photos' || this.state === 'training' || this.state === 'storing';
  }

  choose(files: readonly File[]): void {
    this.photos = files.filter((f) => isImageFileName(f.name));
  }

  /** Seconds of photos left at the rate so far, once there is one. */
  secondsLeft(): number | null {
    return this.rate > 0 ? (this.progress.total - this.progress.done) / this.rate : null;
  }

  async start(): Promise<void> {
    const run = ++this.run;
    const live = () => run === this.run && this.running;
    Object.assign(this, { state: 'photos', error: null, summary: null, history: [], rate: 0, refused: 0 });
    this.progress = { done: 0, total: this.photos.length };
    const started = performance.now();
    const classes = this.classes
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    try {
      const summary = await classifier.distill(this.photos, this.student, { classes }, (event) => {
        if (!live()) return;
        if (event.phase === 'photos') {
          this.progress = { done: event.done, total: event.total };
          const seconds = (performance.now() - started) / 1000;
          if (seconds > 0.5) this.rate = event.done / seconds;
        } else if (event.phase === 'refused') {
          this.refused++;
        } else if (event.phase === 'training') {
          this.state = 'training';
          const { phase: _, ...figures } = event;
          this.history = [...this.history, figures];
        } else {
          this.state = 'storing';
        }
      });
      if (run !== this.run) return;
      this.summary = summary;
      this.state = 'done';
    } catch (error) {
      if (run !== this.run) return;
      this.error = error;
      this.state = 'error';
    }
  }

  async cancel(): Promise<void> {
    await classifier.cancelDistill();
  }
}

export const distillation = new Distillation();
