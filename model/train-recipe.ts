import type { EvaluationReport } from '../src/core/metrics';
import { fitTemperature } from '../src/core/calibration';
import { fitNearest, NONE_OF_THESE } from '../src/core/nearest-neighbour';
import type { EpochFigures, ReviewEntry, TrainOptions } from '../src/core/train-options';
import type { TfjsModelFiles } from './model-files';
import { combineWithHead, type HeadStorage, type TrainedModelInfo } from './trained-model';
import { outOfFold, reviewOf, trainHead, validationReport } from './training';

/**
 * The training recipe, once for the Train view's worker and `npm run train`: on features already
 * collected (collectFeatures), a softmax head with early stopping and a temperature fitted on the
 * validation split, or a nearest-neighbour head checked by leave-one-out; either way the base graph
 * with the new head, as one tfjs graph model.
 */
export interface TrainedClassifier {
  method: TrainOptions['method'];
  name: string;
  /** The new model's classes: the labels, and "none of these" last for nearest neighbour. */
  labels: string[];
  /** Validation (leave-one-out for nearest neighbour) scored with the shared metrics. */
  report: EvaluationReport;
  /** Each photo's answer by a model that did not learn from it (validation, out of fold, leave-one-out). */
  review: ReviewEntry[];
  history: EpochFigures[];
  bestEpoch: number;
  split: { train: number; val: number };
  temperature?: number;
  /** For nearest neighbour: the cosine similarity below which the answer is "none of these". */
  threshold?: number;
  /** The model's files, its head's kernels stored as asked. */
  files: (storage?: HeadStorage) => Record<string, Uint8Array>;
}

export interface RecipeHooks {
  onEpoch?: (figures: EpochFigures) => void;
  /** Returning false stops the epochs (the head keeps its best so far). */
  keepGoing?: () => boolean;
  /** Answer the training photos out of fold too, for Review (two more heads). */
  reviewTraining?: boolean;
}

export async function trainClassifier(
  base: TfjsModelFiles,
  features: readonly Float32Array[],
  truth: readonly number[],
  split: { train: number[]; val: number[] },
  /** How many of `features` are the photos themselves; the rest are augmented views of training photos. */
  originals: number,
  labels: readonly string[],
  settings: TrainOptions,
  hooks: RecipeHooks = {},
): Promise<TrainedClassifier> {
  const info = (name: string, report: EvaluationReport) => ({
    name,
    options: settings,
    validation: { n: report.n, top1: report.top1, macro: report.macro, weighted: report.weighted },
    baseModel: base.spec.name,
  });
  if (settings.method === 'nearest') {
    const kept = split.train;
    const fit = fitNearest(
      kept.map((i) => features[i]!),
      kept.map((i) => truth[i]!),
      labels.length,
    );
    const classOnly = fit.probabilities.map((p) => p.subarray(0, labels.length));
    const report = validationReport(classOnly, truth, kept, labels);
    const name = `nearest: ${labels.join(', ')}`.slice(0, 80);
    const model: TrainedModelInfo = {
      ...info(name, report),
      labels: [...labels, NONE_OF_THESE],
      examples: labels.map((_, c) => kept.filter((i) => truth[i] === c).length),
    };
    return {
      method: 'nearest',
      name,
      labels: model.labels,
      report,
      review: reviewOf(kept, classOnly, 'training'),
      history: [],
      bestEpoch: 0,
      split: { train: kept.length, val: kept.length },
      threshold: fit.head.threshold,
      files: (storage) => combineWithHead(base.artifacts, base.spec, fit.head, model, storage),
    };
  }
  const head = await trainHead(features, truth, labels.length, split, settings, hooks.onEpoch, hooks.keepGoing);
  const folds = hooks.reviewTraining
    ? await outOfFold(features, truth, labels.length, split, originals, settings, head.bestEpoch, hooks.keepGoing)
    : [];
  const report = validationReport(head.valProbabilities, truth, split.val, labels);
  const name = `trained: ${labels.join(', ')}`.slice(0, 80);
  // The validation split calibrates the new head's confidence too (a temperature), where there is one.
  const temperature =
    head.valProbabilities.length > 0
      ? fitTemperature(
          head.valProbabilities,
          split.val.map((i) => truth[i]!),
        )
      : undefined;
  const model: TrainedModelInfo = {
    ...info(name, report),
    labels: [...labels],
    ...(temperature ? { temperature } : {}),
  };
  return {
    method: 'head',
    name,
    labels: model.labels,
    report,
    review: [
      ...reviewOf(split.val, head.valProbabilities, 'validation'),
      ...reviewOf(
        folds.map((f) => f.index),
        folds.map((f) => f.probabilities),
        'training',
      ),
    ],
    history: head.history,
    bestEpoch: head.bestEpoch,
    split: { train: split.train.length, val: split.val.length },
    ...(temperature ? { temperature } : {}),
    files: (storage) => combineWithHead(base.artifacts, base.spec, head, model, storage),
  };
}
