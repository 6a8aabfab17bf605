/**
 * Knowledge distillation without labels: what a student learns from a teacher's answers. The
 * student's head learns the teacher's probabilities softened by a temperature, which carry how
 * alike the teacher finds the classes, not only its top answer; the student then answers at the
 * inverse temperature, so its confidence is the teacher's again.
 */

import { seededRandom } from '../src/core/stats';
import { DEFAULT_TRAIN_OPTIONS, type EpochFigures, type TrainOptions } from '../src/core/train-options';
import type { TfjsModelFiles } from './model-files';
import { combineWithHead } from './trained-model';

/** Softening of the teacher's answers (2–5 is the usual range; higher shares more of the runners-up). */
export const DISTILL_TEMPERATURE = 3;

/** The fewest updates the student's head gets, however few the photos. */
const MIN_STEPS = 400;

/** The name of the class that gathers every class of the teacher not chosen. */
export const OTHER_CLASS = 'other';

/**
 * What the student learns for one photo: the teacher's probabilities in the student's classes
 * (where only some are kept, those classes' shares followed by the rest's sum as one "other"
 * class), softened by `temperature` (p^(1/T), renormalised). Grouping comes first: softened over a
 * thousand classes, the hundreds of unlikely ones would together outweigh the teacher's answer,
 * and every photo would teach "other".
 */
export function softTargets(
  probabilities: Float32Array,
  temperature: number,
  keep: readonly number[] | null,
): Float32Array {
  let grouped = probabilities;
  if (keep) {
    grouped = new Float32Array(keep.length + 1);
    keep.forEach((c, i) => (grouped[i] = probabilities[c]!));
    grouped[keep.length] = Math.max(0, 1 - grouped.subarray(0, keep.length).reduce((a, b) => a + b, 0));
  }
  const scaled = Float64Array.from(grouped, (p) => Math.exp(Math.log(Math.max(p, 1e-30)) / temperature));
  const total = scaled.reduce((a, b) => a + b, 0);
  return Float32Array.from(scaled, (p) => p / total);
}

/** The index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** The teacher's answer in the student's classes: the largest of the kept classes' probabilities and the rest's sum ("other", last). */
export function teacherAnswer(probabilities: Float32Array, keep: readonly number[] | null): number {
  return argmax(softTargets(probabilities, 1, keep));
}

/**
 * Which photos teach the student: every fifth is kept out to measure how often the student
 * agrees with the teacher; of the rest, a seeded 15% stops the training early.
 */
export function distillationSplit(count: number, seed: number): { train: number[]; val: number[]; heldOut: number[] } {
  const indices = Array.from({ length: count }, (_, i) => i);
  const heldOut = indices.filter((i) => i % 5 === 4);
  const random = seededRandom(seed);
  const shuffled = indices
    .filter((i) => i % 5 !== 4)
    .map((i) => [random(), i] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, i]) => i);
  const validation = Math.max(1, Math.round(0.15 * shuffled.length));
  return { train: shuffled.slice(validation), val: shuffled.slice(0, validation), heldOut };
}

export interface DistillSettings {
  /** The teacher's class names, in its output order. */
  teacherLabels: readonly string[];
  /** The teacher's classes the student answers (the rest become "other"); null: all of them. */
  keep: readonly number[] | null;
  temperature: number;
  /** What the student is called, as the model list shows it. */
  name: string;
}

export interface Distilled {
  labels: string[];
  split: { train: number[]; val: number[]; heldOut: number[] };
  /** The student head's answers to the held-out photos, as the teacher's index in the student's classes. */
  agreement: number;
  bestEpoch: number;
  /** Glimpse's files of the student: its backbone up to the features, and the head. */
  files: Record<string, Uint8Array>;
}

/**
 * A student taught by a teacher, without labels: a head on the student's features (`features`,
 * one per photo) learns the teacher's answers to the same photos (`answers`), softened, and is
 * joined to the student's backbone. The head answers at the inverse temperature, so that its
 * confidence is the teacher's again.
 */
export async function distil(
  student: TfjsModelFiles,
  features: readonly Float32Array[],
  answers: readonly Float32Array[],
  settings: DistillSettings,
  onEpoch: (figures: EpochFigures) => void = () => undefined,
  keepGoing: () => boolean = () => true,
): Promise<Distilled> {
  const { keep, temperature } = settings;
  const labels = keep ? [...keep.map((c) => settings.teacherLabels[c]!), OTHER_CLASS] : [...settings.teacherLabels];
  const split = distillationSplit(features.length, DEFAULT_TRAIN_OPTIONS.seed);
  const targets = answers.map((p) => softTargets(p, temperature, keep));
  const truth = answers.map((p) => teacherAnswer(p, keep));
  // At least MIN_STEPS updates of the head: a few dozen photos make one batch per epoch.
  const steps = Math.ceil(split.train.length / DEFAULT_TRAIN_OPTIONS.batchSize);
  const options: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    epochs: Math.max(60, Math.ceil(MIN_STEPS / steps)),
    patience: 8,
  };
  const { trainHead, validationReport } = await import('./training');
  const head = await trainHead(
    features,
    targets,
    labels.length,
    { ...split, answer: [...split.val, ...split.heldOut] },
    options,
    onEpoch,
    keepGoing,
  );
  const valAnswers = head.valProbabilities.slice(0, split.val.length);
  const heldAnswers = head.valProbabilities.slice(split.val.length);
  const report = validationReport(valAnswers, truth, split.val, labels);
  const agreed = split.heldOut.filter((i, k) => argmax(heldAnswers[k]!) === truth[i]).length;
  const files = combineWithHead(
    student.artifacts,
    student.spec,
    head,
    {
      name: settings.name.slice(0, 80),
      labels,
      options,
      validation: { n: report.n, top1: report.top1, macro: report.macro, weighted: report.weighted },
      baseModel: student.spec.name,
      temperature: 1 / temperature,
    },
    'uint8',
  );
  return {
    labels,
    split,
    agreement: split.heldOut.length > 0 ? agreed / split.heldOut.length : Number.NaN,
    bestEpoch: head.bestEpoch,
    files,
  };
}
