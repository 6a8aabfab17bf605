export interface Prediction {
  label: string;
  index: number;
  probability: number;
}

/** A minimum confidence must be a share: 0 (always sure, the default) to 1. */
export function isMinConfidence(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;
}

/**
 * A minimum confidence written as text (a URL's ?minConfidence=, the stored setting): a decimal
 * share ("0.6", ".6", "1") or a percentage ("60%"); anything else (hexadecimal "0x1", exponents,
 * "Infinity", out of range) is no minimum at all, so that it can never make every answer "not sure".
 */
export function parseMinConfidence(text: string | null | undefined): number | undefined {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)\s*$/.exec(text ?? '');
  if (!match) return undefined;
  const value = Number(match[1]) / (match[2] ? 100 : 1);
  return isMinConfidence(value) ? value : undefined;
}

/** Whether an answer is sure: its top-1 reaches the minimum confidence (below it the app says "not sure" first). */
export function isSure(predictions: readonly Prediction[], minConfidence: number): boolean {
  return minConfidence <= 0 || (predictions[0]?.probability ?? 0) >= minConfidence;
}

function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Class scores for labels[i], dropping a leading background class and applying softmax if the model outputs logits. */
export function classProbabilities(
  output: Float32Array,
  labelCount: number,
  classOffset: number,
  isLogits: boolean,
): Float32Array {
  if (output.length < classOffset + labelCount) {
    throw new RangeError(`model outputs ${output.length} scores, labels need ${classOffset + labelCount}`);
  }
  const scores = output.subarray(classOffset, classOffset + labelCount);
  return isLogits ? softmax(scores) : scores;
}

/** The k most probable classes, highest first; ties keep the lower index first. */
export function topK(probabilities: Float32Array, labels: readonly string[], k: number): Prediction[] {
  const n = Math.min(Math.max(1, Math.floor(k)), probabilities.length);
  const order = Array.from(probabilities.keys());
  order.sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  return order
    .slice(0, n)
    .map((index) => ({ label: labels[index] ?? `class ${index}`, index, probability: probabilities[index]! }));
}

/**
 * Where the answers with no probability at all begin (after the first), or the list's length: a
 * quantized model's many exact zeros come out of topK in index order, as if "tench" were the
 * runner-up to every answer, so the list shows them as one line ("every other class: 0%").
 */
export function zeroTail(predictions: readonly Prediction[]): number {
  const at = predictions.findIndex((p, rank) => rank > 0 && p.probability === 0);
  return at < 0 ? predictions.length : at;
}

/**
 * The mean probability of each class over several frames' top-k lists (a class missing from
 * a frame's list counts as 0 there), top-k first: what live smoothing shows.
 */
export function averagePredictions(frames: readonly (readonly Prediction[])[], k: number): Prediction[] {
  const sums = new Map<number, Prediction>();
  for (const frame of frames) {
    for (const p of frame)
      sums.set(p.index, { ...p, probability: (sums.get(p.index)?.probability ?? 0) + p.probability });
  }
  return [...sums.values()]
    .map((p) => ({ ...p, probability: p.probability / frames.length }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}
