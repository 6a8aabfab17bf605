/**
 * Knowledge distillation without labels: what a student learns from a teacher's answers. The
 * student's head learns the teacher's probabilities softened by a temperature, which carry how
 * alike the teacher finds the classes, not only its top answer; the student then answers at the
 * inverse temperature, so its confidence is the teacher's again.
 */

/** Softening of the teacher's answers (2–5 is the usual range; higher shares more of the runners-up). */
export const DISTILL_TEMPERATURE = 3;

/** The name of the class that gathers every class of the teacher not chosen. */
export const OTHER_CLASS = 'other';

/**
 * What the student learns for one photo: the teacher's probabilities softened by `temperature`
 * (p^(1/T), renormalised), and, where only some classes are kept, those classes' shares followed
 * by the rest of the probability as one "other" class.
 */
export function softTargets(
  probabilities: Float32Array,
  temperature: number,
  keep: readonly number[] | null,
): Float32Array {
  const scaled = Float64Array.from(probabilities, (p) => Math.exp(Math.log(Math.max(p, 1e-30)) / temperature));
  const total = scaled.reduce((a, b) => a + b, 0);
  const soft = Float32Array.from(scaled, (p) => p / total);
  if (!keep) return soft;
  const out = new Float32Array(keep.length + 1);
  keep.forEach((c, i) => (out[i] = soft[c]!));
  out[keep.length] = Math.max(0, 1 - out.subarray(0, keep.length).reduce((a, b) => a + b, 0));
  return out;
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
