import { evaluate, MAX_EVALUATED_CLASSES, type EvaluationReport, type Sample } from '../core/metrics';
import {
  accuracyCoverage,
  calibration,
  fitOnHalf,
  judgedAt,
  untempered,
  type Calibration,
  type CoveragePoint,
  type TemperatureFit,
} from '../core/calibration';
import { isImageFileName } from '../core/image-files';
import { resolveLabel, wnidLabeller } from '../core/labels';
import { classifier } from './classifier.svelte';

export interface Skipped {
  name: string;
  reason: string;
}

/**
 * The true class of each file: its folder's name (folder-per-class) or, for ImageNet
 * samples named `<wnid>_<name>`, the wnid's rank among one wnid per class (ImageNet's
 * class order), else the name part. Same rules as `npm run eval`.
 */
export function labelFiles(
  files: readonly File[],
  labels: readonly string[],
  folderOf: (file: File) => string | undefined = (file) => file.webkitRelativePath.split('/').slice(-2, -1)[0],
): { items: { file: File; truth: number }[]; skipped: Skipped[] } {
  const byWnid = wnidLabeller(
    files.map((f) => f.name),
    labels,
  );
  const items: { file: File; truth: number }[] = [];
  const skipped: Skipped[] = [];
  for (const file of files) {
    const folder = folderOf(file);
    try {
      const fromWnid = byWnid(file.name);
      if (fromWnid !== null) items.push({ file, truth: fromWnid });
      else if (folder) items.push({ file, truth: resolveLabel(folder, labels) });
      else skipped.push({ name: file.name, reason: 'no label: put images in a folder named after their class' });
    } catch (error) {
      skipped.push({ name: file.webkitRelativePath || file.name, reason: (error as Error).message });
    }
  }
  return { items, skipped };
}

/** An evaluation run in the app: labelled images through the worker, scored with the CLI's metrics. */
class Evaluation {
  state = $state<'idle' | 'running' | 'done'>('idle');
  progress = $state({ done: 0, total: 0 });
  report = $state.raw<EvaluationReport | null>(null);
  skipped = $state.raw<Skipped[]>([]);
  /** Set when the model has more classes than a report can cover: nothing is classified then. */
  tooManyClasses = $state<number | null>(null);
  /** How far the model's confidence (as it answers now, its temperature applied) matches its accuracy. */
  calibration = $state.raw<Calibration | null>(null);
  coverage = $state.raw<CoveragePoint[]>([]);
  /** The last fit: the temperature, and the ECE before and after it on the held-out half. */
  fitted = $state.raw<TemperatureFit | null>(null);
  /** Every image's probabilities before any temperature, and its true class: what a fit needs. */
  private raw: Float32Array[] = [];
  private truth: number[] = [];
  private run = 0;

  /** `folders` gives each file's folder when it did not come from a folder picker (a drop). */
  async start(files: readonly File[], folders?: ReadonlyMap<File, string | null>): Promise<void> {
    const run = ++this.run;
    const labels = await classifier.labels();
    this.tooManyClasses = labels.length > MAX_EVALUATED_CLASSES ? labels.length : null;
    if (this.tooManyClasses !== null) return;
    const images = files.filter((f) => isImageFileName(f.name));
    const { items, skipped } = labelFiles(images, labels, folders ? (f) => folders.get(f) ?? undefined : undefined);
    this.skipped = skipped;
    this.report = null;
    this.calibration = null;
    this.coverage = [];
    this.fitted = null;
    this.state = 'running';
    const temperature = classifier.info?.model.temperature ?? 1;
    const raw: Float32Array[] = [];
    const truths: number[] = [];
    this.progress = { done: 0, total: items.length };
    const samples: Sample[] = [];
    for (const { file, truth } of items) {
      if (run !== this.run) return;
      try {
        // Every class's probability, for the calibration figures and a temperature fit.
        const result = await classifier.classifyImage(file, labels.length);
        samples.push({ truth, ranked: result.predictions.slice(0, 5).map((p) => p.index), ms: result.ms });
        raw.push(untempered(result.predictions, labels.length, temperature));
        truths.push(truth);
      } catch (error) {
        this.skipped = [...this.skipped, { name: file.webkitRelativePath || file.name, reason: (error as Error).name }];
      }
      this.progress = { done: this.progress.done + 1, total: items.length };
    }
    this.report = evaluate(samples, labels);
    [this.raw, this.truth] = [raw, truths];
    this.judge(temperature);
    this.state = 'done';
  }

  private judge(temperature: number): void {
    const judged = judgedAt(this.raw, this.truth, temperature);
    this.calibration = calibration(judged);
    this.coverage = accuracyCoverage(judged);
  }

  /**
   * Fits a temperature on every other image; the ECE before and after is measured on the other
   * half, and only a fit that lowers it is kept with the model (the worker applies it on every
   * engine, after reloads too). One that does not is reported and the model left as it was.
   */
  async calibrate(): Promise<void> {
    const fit = fitOnHalf(this.raw, this.truth, classifier.info?.model.temperature ?? 1);
    if (!fit) return;
    if (fit.helps) {
      await classifier.calibrate(fit.temperature);
      this.judge(fit.temperature);
    }
    this.fitted = fit;
  }

  /** Forgets the fitted temperature: the model's own applies again. */
  async uncalibrate(): Promise<void> {
    await classifier.calibrate(null);
    this.fitted = null;
    this.judge(classifier.info?.model.temperature ?? 1);
  }

  cancel(): void {
    this.run++;
    this.state = 'idle';
  }
}

export const evaluation = new Evaluation();
