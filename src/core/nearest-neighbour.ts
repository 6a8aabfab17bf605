import { fitTemperature } from './calibration';
import { BadRequestError } from './errors';

/**
 * Few-shot classification without training: a photo's class is that of its most similar
 * example (cosine similarity of the base model's features, as Teachable Machine's first
 * version did), and "none of these" when even the most similar example is further than a
 * threshold. Fitted on the examples alone by leave-one-out, so it answers at once.
 */

/** More examples than this in a class belong in a trained head (the exported kernel grows with the largest class). */
export const MAX_EXAMPLES_PER_CLASS = 50;

/** The answer's label when no class is near enough. */
export const NONE_OF_THESE = 'none of these';

export interface NearestHead {
  /** Unit-length examples, class by class, each class padded to `perClass` by repeating its first example. */
  exemplars: Float32Array[];
  classes: number;
  perClass: number;
  /** Cosine similarity below which the answer is "none of these". */
  threshold: number;
  /** Similarities are multiplied by this before the softmax, fitted by leave-one-out. */
  scale: number;
}

export interface NearestFit {
  head: NearestHead;
  /** Each example's leave-one-out probabilities over the classes and "none of these" (last). */
  probabilities: Float32Array[];
}

export function unitLength(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(Math.max(sum, 1e-12));
  return vector.map((v) => v / norm);
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function softmax(logits: readonly number[]): Float32Array {
  const top = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - top));
  const total = e.reduce((s, v) => s + v, 0);
  return Float32Array.from(e, (v) => v / total);
}

/** Per class, the highest similarity to any of its examples, then the threshold: the logits before scaling. */
function similarities(
  unit: readonly Float32Array[],
  labels: readonly number[],
  classes: number,
  query: Float32Array,
  skip: number,
  threshold: number,
): number[] {
  const best = new Array<number>(classes).fill(-1);
  unit.forEach((example, i) => {
    if (i !== skip) best[labels[i]!] = Math.max(best[labels[i]!]!, dot(example, query));
  });
  return [...best, threshold];
}

/** The share of a class's own photos the threshold may call "none of these", at most (by leave-one-out). */
const OWN_MISSES = 0.1;

/**
 * The threshold that best separates how close a photo is to the rest of its own class from
 * how close it is to the nearest other class (a stand-in for "something else"), by leave-one-out,
 * lowered where it would call more than OWN_MISSES of the classes' own photos "none of these".
 */
function fitThreshold(own: number[], other: number[]): number {
  if (own.length === 0) return other.length > 0 ? other.reduce((s, v) => s + v, 0) / other.length : 0.5;
  const candidates = [...own, ...other].sort((a, b) => a - b);
  let best = { t: candidates[0]!, right: -1 };
  for (let i = 0; i < candidates.length; i++) {
    const t = i === 0 ? candidates[0]! - 1e-6 : (candidates[i - 1]! + candidates[i]!) / 2;
    const right =
      own.filter((s) => s >= t).length / own.length +
      (other.length > 0 ? other.filter((s) => s < t).length / other.length : 0);
    if (right > best.right) best = { t, right };
  }
  const sorted = [...own].sort((a, b) => a - b);
  return Math.min(best.t, sorted[Math.floor(OWN_MISSES * sorted.length)]! - 1e-6);
}

export function fitNearest(features: readonly Float32Array[], labels: readonly number[], classes: number): NearestFit {
  const counts = new Array<number>(classes).fill(0);
  for (const label of labels) counts[label]!++;
  const largest = Math.max(...counts);
  if (largest > MAX_EXAMPLES_PER_CLASS)
    throw new BadRequestError(
      `nearest neighbour keeps at most ${MAX_EXAMPLES_PER_CLASS} photos a class (one has ${largest}): train a head instead`,
    );
  const unit = features.map(unitLength);
  const own: number[] = [];
  const other: number[] = [];
  const nearest = unit.map((query, i) => {
    const sims = similarities(unit, labels, classes, query, i, 0).slice(0, classes);
    if (counts[labels[i]!]! > 1) own.push(sims[labels[i]!]!);
    other.push(Math.max(...sims.filter((_, c) => c !== labels[i])));
    return sims;
  });
  const threshold = fitThreshold(own, other);
  // Leave-one-out answers of the classes alone fit the scale, as a temperature on a first guess.
  const first = 10;
  const fitOn = labels.flatMap((label, i) => (counts[label]! > 1 ? [i] : []));
  const classOnly = fitOn.map((i) => softmax(nearest[i]!.map((s) => s * first)));
  const fitted =
    fitOn.length > 0
      ? first /
        fitTemperature(
          classOnly,
          fitOn.map((i) => labels[i]!),
        )
      : first;
  const perClass = largest;
  const exemplars: Float32Array[] = [];
  for (let c = 0; c < classes; c++) {
    const mine = unit.filter((_, i) => labels[i] === c);
    for (let k = 0; k < perClass; k++) exemplars.push(mine[k] ?? mine[0]!);
  }
  return {
    head: { exemplars, classes, perClass, threshold, scale: fitted },
    probabilities: nearest.map((sims) => softmax([...sims, threshold].map((s) => s * fitted))),
  };
}

/** A photo's probabilities over the classes and "none of these" (last), as the exported graph computes them. */
export function nearestProbabilities(head: NearestHead, feature: Float32Array): Float32Array {
  const query = unitLength(feature);
  const best = new Array<number>(head.classes).fill(-Infinity);
  head.exemplars.forEach((example, i) => {
    const c = Math.floor(i / head.perClass);
    best[c] = Math.max(best[c]!, dot(example, query));
  });
  return softmax([...best, head.threshold].map((s) => s * head.scale));
}
