import { BadRequestError } from '../core/errors';
import { isImageFileName } from '../core/image-files';
import { median } from '../core/stats';
import { agreement, top1 } from '../core/model-comparison';
import { classifier } from './classifier.svelte';
import { labelFiles, type Skipped } from './evaluation.svelte';

export interface ComparedRow {
  id: string;
  name: string;
  classes: number;
  /** What it downloads; null where unknown. */
  bytes: number | null;
  top1: number;
  /** Share of the photos on which its answer (by label) is the first model's. */
  agreement: number;
  /** Median worker ms per photo, on the backend it ran on. */
  msPerImage: number;
  backend: string;
}

/**
 * The Evaluate view's "Compare models": the chosen models, one after the other, on the same
 * labelled photos (labelled by the first model's class names, as `npm run compare` does), each
 * made active for its turn; the model the user had is active again afterwards.
 */
const info = () => {
  if (!classifier.info) throw new BadRequestError('the model is not loaded');
  return classifier.info;
};

class Comparison {
  state = $state<'idle' | 'running' | 'done' | 'error'>('idle');
  progress = $state({ model: 0, models: 0, done: 0, total: 0 });
  rows = $state.raw<ComparedRow[]>([]);
  skipped = $state.raw<Skipped[]>([]);
  error = $state.raw<unknown>(null);
  private run = 0;

  async start(files: readonly File[], ids: readonly string[]): Promise<void> {
    const run = ++this.run;
    const original = classifier.info?.model.id;
    Object.assign(this, { state: 'running', rows: [], skipped: [], error: null });
    try {
      const rows: ComparedRow[] = [];
      let truth: string[] = [];
      let photos: File[] = [];
      let reference: string[] = [];
      for (const [m, id] of ids.entries()) {
        if (classifier.info?.model.id !== id) await classifier.useModel(id);
        if (m === 0) {
          const labels = await classifier.labels();
          const { items, skipped } = labelFiles(
            files.filter((f) => isImageFileName(f.name)),
            labels,
          );
          this.skipped = skipped;
          if (items.length === 0)
            throw new BadRequestError(
              `none of the photos is in a folder named after one of ${info().model.name}'s classes`,
            );
          photos = items.map((i) => i.file);
          truth = items.map((i) => labels[i.truth]!);
        }
        const answers: string[] = [];
        const ms: number[] = [];
        for (const [k, photo] of photos.entries()) {
          if (run !== this.run) return;
          this.progress = { model: m + 1, models: ids.length, done: k, total: photos.length };
          const result = await classifier.classifyImage(photo, 1);
          answers.push(result.predictions[0]?.label ?? '');
          ms.push(result.ms);
        }
        if (m === 0) reference = answers;
        rows.push({
          id,
          name: info().model.name,
          classes: info().model.classes,
          bytes: await classifier.modelBytes(id),
          top1: top1(answers, truth),
          agreement: agreement(answers, reference),
          msPerImage: median(ms),
          backend: info().backend,
        });
        this.rows = [...rows];
      }
      this.state = 'done';
    } catch (error) {
      if (run !== this.run) return;
      this.error = error;
      this.state = 'error';
    } finally {
      if (original && classifier.info?.model.id !== original)
        await classifier.useModel(original).catch(() => undefined);
    }
  }

  cancel(): void {
    this.run++;
    this.state = 'idle';
  }
}

export const comparison = new Comparison();
