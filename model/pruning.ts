/**
 * Magnitude pruning, per layer: the plan (how much of each layer to zero), the scan-guided search
 * for the sparsest plan within an accuracy budget, and the pruning itself. The model's files and
 * its runs are the caller's (tools/prune.ts): this is the arithmetic, the same in Node and a worker.
 */

/** Sparsities the sensitivity scan tries on each layer. */
export const SCAN_LEVELS = [0.25, 0.5, 0.7, 0.85] as const;

/**
 * Where a layer sits, which decides whether uniform pruning touches it: the first convolution
 * sees raw pixels through few weights, a depthwise kernel has nine weights per channel, and the
 * classifier's rows are the classes themselves, so each is pruned only where the scan finds it cheap.
 */
export type LayerRole = 'first-conv' | 'depthwise' | 'classifier' | 'bulk';

export interface PrunableLayer {
  name: string;
  shape: number[];
  count: number;
  role: LayerRole;
}

/** The layers a pruning plan can touch: float kernels and matrices (rank 2 or more), never biases; in manifest order. */
export function prunableLayers(weights: readonly { name: string; shape: number[]; dtype: string }[]): PrunableLayer[] {
  const kernels = weights.filter((w) => w.dtype === 'float32' && w.shape.length >= 2);
  const firstConv = kernels.find((w) => w.shape.length === 4);
  return kernels.map((w, i) => ({
    name: w.name,
    shape: w.shape,
    count: w.shape.reduce((a, b) => a * b, 1),
    role:
      w === firstConv
        ? 'first-conv'
        : i === kernels.length - 1
          ? 'classifier'
          : w.shape.length === 4 && w.shape[3] === 1 && /depthwise/i.test(w.name)
            ? 'depthwise'
            : 'bulk',
  }));
}

/** Layer name → share of its weights set to zero. */
export type PrunePlan = Map<string, number>;

/** `sparsity` of every bulk layer; the first convolution, depthwise kernels and the classifier stay whole. */
export function uniformPlan(layers: readonly PrunableLayer[], sparsity: number): PrunePlan {
  return new Map(layers.filter((l) => l.role === 'bulk').map((l) => [l.name, sparsity]));
}

/**
 * The values with the `round(sparsity × n)` smallest magnitudes set to zero, ties broken by
 * position (the earlier goes first), so the count is exact whatever the values. One threshold per
 * layer: per output channel (each channel's weights share its folded batch-norm scale) measured no
 * better on MobileNetV2 (docs/PERFORMANCE.md), so the simpler rule stays.
 */
export function magnitudePrune(values: Float32Array, sparsity: number): Float32Array {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new RangeError(`sparsity ${sparsity} is not between 0 and 1`);
  const k = Math.round(sparsity * values.length);
  const out = values.slice();
  if (k === 0) return out;
  const magnitudes = Float32Array.from(values, Math.abs).sort();
  const threshold = magnitudes[k - 1]!;
  let below = 0;
  for (const m of magnitudes) if (m < threshold) below++;
  // Every value under the threshold goes, and as many at it as make k, first ones first.
  let atThreshold = k - below;
  for (let i = 0; i < out.length; i++) {
    const m = Math.abs(out[i]!);
    if (m < threshold) out[i] = 0;
    else if (m === threshold && atThreshold > 0) {
      out[i] = 0;
      atThreshold--;
    }
  }
  return out;
}

/** How many of the layers' weights a plan zeroes. */
export function zeroedWeights(layers: readonly PrunableLayer[], plan: PrunePlan): number {
  return layers.reduce((n, l) => n + l.count * (plan.get(l.name) ?? 0), 0);
}

/** Share of the layers' weights a plan zeroes. */
export function planSparsity(layers: readonly PrunableLayer[], plan: PrunePlan): number {
  const total = layers.reduce((n, l) => n + l.count, 0);
  return total ? zeroedWeights(layers, plan) / total : 0;
}

/** What pruning one layer alone at each of SCAN_LEVELS did: how far the output probabilities moved (mean L1). */
export interface LayerSensitivity {
  layer: string;
  effects: number[];
}

/** One step of a plan: a layer taken to a level, with its cost (effect) per weight removed. */
interface Step {
  layer: string;
  sparsity: number;
  cost: number;
}

/** Every (layer, level) of the scan, cheapest per weight removed first. */
export function rankedSteps(layers: readonly PrunableLayer[], scan: readonly LayerSensitivity[]): Step[] {
  const countOf = new Map(layers.map((l) => [l.name, l.count]));
  return scan
    .flatMap(({ layer, effects }) =>
      SCAN_LEVELS.map((sparsity, i) => ({
        layer,
        sparsity,
        cost: effects[i]! / (sparsity * countOf.get(layer)!),
      })),
    )
    .sort((a, b) => a.cost - b.cost);
}

/** The plan of the first `k` steps: each layer at the highest level among its steps taken. */
export function planOfSteps(steps: readonly Step[], k: number): PrunePlan {
  const plan: PrunePlan = new Map();
  for (const step of steps.slice(0, k)) plan.set(step.layer, Math.max(plan.get(step.layer) ?? 0, step.sparsity));
  return plan;
}

/**
 * The plan of the most steps whose top-1 accuracy (from `evaluate`, on the images the choice is
 * made on) is at most `maxDrop` below `before`: a binary search over the ranked steps, about
 * log2(steps) evaluations. Pruning more rarely helps, so accuracy falls roughly with each step taken.
 */
export async function searchPlan(
  steps: readonly Step[],
  before: number,
  maxDrop: number,
  evaluate: (plan: PrunePlan) => Promise<number>,
): Promise<{ plan: PrunePlan; accuracy: number }> {
  const fits = async (k: number) => {
    const accuracy = await evaluate(planOfSteps(steps, k));
    return { ok: before - accuracy <= maxDrop, accuracy };
  };
  let [lo, best] = [0, { plan: new Map() as PrunePlan, accuracy: before }];
  let hi = steps.length;
  const all = await fits(hi);
  if (all.ok) return { plan: planOfSteps(steps, hi), accuracy: all.accuracy };
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const result = await fits(mid);
    if (result.ok) [lo, best] = [mid, { plan: planOfSteps(steps, mid), accuracy: result.accuracy }];
    else hi = mid;
  }
  return best;
}
