/**
 * How far a model's confidence can be trusted: the expected calibration error over equal-width
 * bins of top-1 confidence, the reliability diagram's bins, the accuracy–coverage curve, and
 * temperature scaling (one number fitted on labelled images). Shared by `npm run eval`, the
 * Evaluate view and the worker, which applies a model's temperature on every engine.
 */

export const CALIBRATION_BINS = 15;

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean top-1 confidence of the images in the bin (0 when empty). */
  confidence: number;
  /** Share of them whose top-1 was right (0 when empty). */
  accuracy: number;
}

export interface Calibration {
  /** Σ count/n × |accuracy − confidence| over the bins. */
  ece: number;
  bins: CalibrationBin[];
}

/** One image's answer: its top-1 confidence and whether the top-1 was right. */
export interface Judged {
  confidence: number;
  correct: boolean;
}

export function calibration(judged: readonly Judged[], binCount = CALIBRATION_BINS): Calibration {
  const bins = Array.from({ length: binCount }, (_, i) => ({
    lower: i / binCount,
    upper: (i + 1) / binCount,
    count: 0,
    confidence: 0,
    accuracy: 0,
  }));
  for (const { confidence, correct } of judged) {
    // Bins are (lower, upper]; a confidence of 0 goes in the first.
    const bin = bins[Math.min(binCount - 1, Math.max(0, Math.ceil(confidence * binCount) - 1))]!;
    bin.count++;
    bin.confidence += confidence;
    bin.accuracy += correct ? 1 : 0;
  }
  let ece = 0;
  for (const bin of bins) {
    if (bin.count === 0) continue;
    bin.confidence /= bin.count;
    bin.accuracy /= bin.count;
    ece += (bin.count / judged.length) * Math.abs(bin.accuracy - bin.confidence);
  }
  return { ece, bins };
}

export interface CoveragePoint {
  /** Answering only at confidence ≥ threshold… */
  threshold: number;
  /** …covers this share of the images… */
  coverage: number;
  /** …at this accuracy. */
  accuracy: number;
}

/** The accuracy–coverage curve: one point per distinct confidence, most confident first. */
export function accuracyCoverage(judged: readonly Judged[]): CoveragePoint[] {
  const sorted = [...judged].sort((a, b) => b.confidence - a.confidence);
  const points: CoveragePoint[] = [];
  let right = 0;
  for (let i = 0; i < sorted.length; i++) {
    right += sorted[i]!.correct ? 1 : 0;
    if (i + 1 < sorted.length && sorted[i + 1]!.confidence === sorted[i]!.confidence) continue;
    points.push({ threshold: sorted[i]!.confidence, coverage: (i + 1) / sorted.length, accuracy: right / (i + 1) });
  }
  return points;
}

/** The point of the curve a threshold selects: what answering only at confidence ≥ t gives. */
export function coverageAt(points: readonly CoveragePoint[], threshold: number): CoveragePoint {
  const kept = points.filter((p) => p.threshold >= threshold);
  return kept.at(-1) ?? { threshold, coverage: 0, accuracy: 0 };
}

/** Probabilities at temperature `t`: softmax(log p / t). t > 1 softens, t < 1 sharpens; 1 changes nothing. */
export function withTemperature(probabilities: Float32Array, t: number): Float32Array {
  if (t === 1) return probabilities;
  const logs = Float32Array.from(probabilities, (p) => Math.log(Math.max(p, 1e-30)) / t);
  const top = logs.reduce((a, b) => Math.max(a, b), -Infinity);
  let total = 0;
  for (let i = 0; i < logs.length; i++) total += logs[i] = Math.exp(logs[i]! - top);
  for (let i = 0; i < logs.length; i++) logs[i]! /= total;
  return logs;
}

/** Mean negative log-likelihood of the true classes at temperature `t`. */
function nll(probabilities: readonly Float32Array[], truth: readonly number[], t: number): number {
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++)
    sum -= Math.log(Math.max(withTemperature(probabilities[i]!, t)[truth[i]!]!, 1e-30));
  return sum / probabilities.length;
}

/** Temperatures the fit may choose: a model is rarely off by more than 10× either way. */
export const TEMPERATURE_RANGE = [0.1, 10] as const;

/** Whether `x` is a temperature Glimpse applies: a number in TEMPERATURE_RANGE (0, negative, NaN or 1e308 would break every answer). */
export function isTemperature(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= TEMPERATURE_RANGE[0] && x <= TEMPERATURE_RANGE[1];
}

/**
 * The temperature that minimises the negative log-likelihood of the true classes (Guo et al.,
 * 2017), by golden-section search on log t (the NLL is unimodal in it). Ranking, and so accuracy,
 * is unchanged by any temperature.
 */
export function fitTemperature(probabilities: readonly Float32Array[], truth: readonly number[]): number {
  if (probabilities.length === 0) throw new RangeError('fitting a temperature needs labelled images');
  let [lo, hi] = TEMPERATURE_RANGE.map(Math.log) as [number, number];
  const golden = (Math.sqrt(5) - 1) / 2;
  let a = hi - golden * (hi - lo);
  let b = lo + golden * (hi - lo);
  let fa = nll(probabilities, truth, Math.exp(a));
  let fb = nll(probabilities, truth, Math.exp(b));
  for (let step = 0; step < 40; step++) {
    if (fa < fb) {
      [hi, b, fb] = [b, a, fa];
      a = hi - golden * (hi - lo);
      fa = nll(probabilities, truth, Math.exp(a));
    } else {
      [lo, a, fa] = [a, b, fb];
      b = lo + golden * (hi - lo);
      fb = nll(probabilities, truth, Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}

/** Every class's probability from a full ranked answer, as the model gives them before temperature `t` was applied. */
export function untempered(
  predictions: readonly { index: number; probability: number }[],
  classes: number,
  t: number,
): Float32Array {
  const probabilities = new Float32Array(classes);
  for (const p of predictions) probabilities[p.index] = p.probability;
  return withTemperature(probabilities, 1 / t);
}

/** A temperature fitted on half of a labelled set, and the ECE on the other half before (at `current`) and after it. */
export interface TemperatureFit {
  temperature: number;
  before: number;
  after: number;
  fitOn: number;
  heldOut: number;
  /** Whether the fit lowered the calibration error on the held-out half: only then is it worth keeping. */
  helps: boolean;
}

/** Fits on the even-numbered images and measures on the odd-numbered ones; null when either half is empty. */
export function fitOnHalf(
  probabilities: readonly Float32Array[],
  truth: readonly number[],
  current: number,
): TemperatureFit | null {
  const half = (parity: number) => probabilities.flatMap((_, i) => (i % 2 === parity ? [i] : []));
  const [fitOn, heldOut] = [half(0), half(1)];
  if (fitOn.length === 0 || heldOut.length === 0) return null;
  const temperature = fitTemperature(
    fitOn.map((i) => probabilities[i]!),
    fitOn.map((i) => truth[i]!),
  );
  const ece = (t: number) =>
    calibration(
      judgedAt(
        heldOut.map((i) => probabilities[i]!),
        heldOut.map((i) => truth[i]!),
        t,
      ),
    ).ece;
  const [before, after] = [ece(current), ece(temperature)];
  return { temperature, before, after, fitOn: fitOn.length, heldOut: heldOut.length, helps: after < before };
}

/** Top-1 confidence and correctness of each image at temperature `t`. */
export function judgedAt(probabilities: readonly Float32Array[], truth: readonly number[], t = 1): Judged[] {
  return probabilities.map((p, i) => {
    const q = withTemperature(p, t);
    let best = 0;
    for (let c = 1; c < q.length; c++) if (q[c]! > q[best]!) best = c;
    return { confidence: q[best]!, correct: best === truth[i] };
  });
}
