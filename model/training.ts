import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageView } from '../src/core/augmentation';
import { evaluate, type EvaluationReport } from '../src/core/metrics';
import { seededRandom } from '../src/core/stats';
import type { EpochFigures, ReviewEntry, TrainOptions } from '../src/core/train-options';

export { DEFAULT_TRAIN_OPTIONS, type EpochFigures, type TrainOptions } from '../src/core/train-options';

/**
 * Transfer learning on cached features: a stratified, seeded split and a dense softmax head
 * trained with cross-entropy and Adam, stopping early on validation loss with the best
 * weights kept. Shared by the worker (the Train view) and `npm run train`.
 */

/**
 * The feature vectors to train on, from `views` (see trainingViews): each image's own vector
 * at its index, then its augmented views' after all the images, in the training set only, so
 * validation stays the user's own images. `featuresOf` computes one image's vectors, one per
 * view, or null for an image it refuses (not an image, damaged): it leaves both sets.
 */
export async function collectFeatures(
  truth: readonly number[],
  split: { train: number[]; val: number[] },
  views: readonly (readonly ImageView[])[],
  featuresOf: (index: number, views: readonly ImageView[]) => Promise<Float32Array[] | null>,
): Promise<{
  features: Float32Array[];
  truth: number[];
  split: { train: number[]; val: number[] };
  refused: number[];
}> {
  const features: Float32Array[] = [];
  const augmented: { vector: Float32Array; label: number }[] = [];
  const refused = new Set<number>();
  for (const [i, imageViews] of views.entries()) {
    const vectors = await featuresOf(i, imageViews);
    if (!vectors) refused.add(i);
    const [own, ...more] = vectors ?? [new Float32Array(0)];
    features.push(own!);
    for (const vector of more) augmented.push({ vector, label: truth[i]! });
  }
  const kept = (i: number) => !refused.has(i);
  const train = [...split.train.filter(kept), ...augmented.map((_, k) => features.length + k)];
  return {
    features: [...features, ...augmented.map((a) => a.vector)],
    truth: [...truth, ...augmented.map((a) => a.label)],
    split: { train, val: split.val.filter(kept) },
    refused: [...refused],
  };
}

/**
 * Indices of the training and validation sets: each class shuffled with the seed and
 * split by `validation` (at least one validation example for a class with two or more).
 */
export function stratifiedSplit(
  labels: readonly number[],
  validation: number,
  seed: number,
): { train: number[]; val: number[] } {
  const rand = seededRandom(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => byClass.set(label, [...(byClass.get(label) ?? []), i]));
  const train: number[] = [];
  const val: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const indices = byClass.get(label)!;
    for (let i = indices.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [indices[i], indices[j]] = [indices[j]!, indices[i]!];
    }
    const count = indices.length < 2 ? 0 : Math.max(1, Math.round(indices.length * validation));
    val.push(...indices.slice(0, count));
    train.push(...indices.slice(count));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

export interface TrainedHead {
  /** The head's dense layers' weights, [kernel, bias] per layer, from the best epoch. */
  weights: { kernel: Float32Array; kernelShape: [number, number]; bias: Float32Array }[];
  history: EpochFigures[];
  bestEpoch: number;
  /** Class probabilities of each validation example (or of each in `split.answer`), by the best weights. */
  valProbabilities: Float32Array[];
}

/**
 * Out-of-fold answers for the training photos, so that Review can offer a mislabelled photo that fell
 * into training: the training photos (originals, below `originals`; not their augmented views) are
 * split in two, seeded and stratified, and each half is answered by a head trained on the other half
 * plus the validation photos, for the main run's best epoch count. No early stopping looks at the
 * half it answers.
 */
export async function outOfFold(
  features: readonly Float32Array[],
  truth: readonly number[],
  classes: number,
  split: { train: number[]; val: number[] },
  originals: number,
  options: TrainOptions,
  epochs: number,
  shouldContinue: () => boolean = () => true,
): Promise<{ index: number; probabilities: Float32Array }[]> {
  const own = split.train.filter((i) => i < originals);
  const halves = stratifiedSplit(
    own.map((i) => truth[i]!),
    0.5,
    options.seed + 1,
  );
  const out: { index: number; probabilities: Float32Array }[] = [];
  for (const [answered, taught] of [
    [halves.val, halves.train],
    [halves.train, halves.val],
  ] as const) {
    if (answered.length === 0 || !shouldContinue()) continue;
    const train = [...taught.map((k) => own[k]!), ...split.val];
    if (new Set(train.map((i) => truth[i])).size < 2) continue;
    const answer = answered.map((k) => own[k]!);
    const head = await trainHead(
      features,
      truth,
      classes,
      { train, val: [], answer },
      { ...options, epochs: Math.max(1, epochs), patience: Number.POSITIVE_INFINITY },
      undefined,
      shouldContinue,
    );
    answer.forEach((index, k) => out.push({ index, probabilities: head.valProbabilities[k]! }));
  }
  return out.sort((a, b) => a.index - b.index);
}

/**
 * Trains the head; `onEpoch` hears each epoch's figures, and returning false from `shouldContinue`
 * stops it. `labels`: each example's class, or (distillation) the probabilities it should learn.
 */
export async function trainHead(
  features: readonly Float32Array[],
  labels: readonly number[] | readonly Float32Array[],
  classes: number,
  split: { train: number[]; val: number[]; answer?: number[] },
  options: TrainOptions,
  onEpoch: (figures: EpochFigures) => void = () => undefined,
  shouldContinue: () => boolean = () => true,
): Promise<TrainedHead> {
  const layers = await import('@tensorflow/tfjs-layers');
  const size = features[0]!.length;
  const rows = (indices: number[]) => {
    const out = new Float32Array(indices.length * size);
    indices.forEach((i, k) => out.set(features[i]!, k * size));
    return out;
  };
  const targets = (indices: number[]): tf.Tensor2D => {
    if (typeof labels[0] === 'number') {
      const hard = labels as readonly number[];
      return tf.tidy(
        () =>
          tf.oneHot(
            tf.tensor1d(
              indices.map((i) => hard[i]!),
              'int32',
            ),
            classes,
          ) as tf.Tensor2D,
      );
    }
    const soft = labels as readonly Float32Array[];
    const out = new Float32Array(indices.length * classes);
    indices.forEach((i, k) => out.set(soft[i]!, k * classes));
    return tf.tensor2d(out, [indices.length, classes]);
  };
  const batch = (indices: number[]) => ({ x: tf.tensor2d(rows(indices), [indices.length, size]), y: targets(indices) });
  const train = batch(split.train);
  const val = split.val.length > 0 ? batch(split.val) : train;
  const head: LayersModel = layers.sequential({
    layers: [
      ...(options.hidden > 0
        ? [
            layers.layers.dense({
              inputShape: [size],
              units: options.hidden,
              activation: 'relu',
              kernelInitializer: layers.initializers.glorotUniform({ seed: options.seed }),
            }),
            layers.layers.dropout({ rate: 0.3, seed: options.seed }),
          ]
        : []),
      layers.layers.dense({
        ...(options.hidden > 0 ? {} : { inputShape: [size] }),
        units: classes,
        activation: 'softmax',
        kernelInitializer: layers.initializers.glorotUniform({ seed: options.seed + 1 }),
      }),
    ],
  });
  const optimizer = tf.train.adam(options.learningRate);
  head.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const history: EpochFigures[] = [];
  let best: { loss: number; epoch: number; weights: tf.Tensor[] } | null = null;
  try {
    for (let epoch = 1; epoch <= options.epochs && shouldContinue(); epoch++) {
      // No yielding inside fit: tfjs-layers yields with requestAnimationFrame, which in a worker of
      // a page the browser deems hidden may never fire, and an epoch here takes milliseconds.
      const fit = await head.fit(train.x, train.y, {
        epochs: 1,
        batchSize: options.batchSize,
        shuffle: true,
        validationData: [val.x, val.y],
        verbose: 0,
        yieldEvery: 'never',
      });
      const at = (name: string) => Number(fit.history[name]?.[0] ?? NaN);
      const figures = {
        epoch,
        loss: at('loss'),
        accuracy: at('acc'),
        valLoss: at('val_loss'),
        valAccuracy: at('val_acc'),
      };
      history.push(figures);
      onEpoch(figures);
      if (!best || figures.valLoss < best.loss) {
        best?.weights.forEach((w) => w.dispose());
        best = { loss: figures.valLoss, epoch, weights: head.getWeights().map((w) => w.clone()) };
      } else if (epoch - best.epoch >= options.patience) {
        break;
      }
    }
    if (best) head.setWeights(best.weights);
    const dense = head.layers.filter((l) => l.getClassName() === 'Dense');
    const weights = dense.map((layer) => {
      const [kernel, bias] = layer.getWeights();
      return {
        kernel: kernel!.dataSync() as Float32Array,
        kernelShape: kernel!.shape as [number, number],
        bias: bias!.dataSync() as Float32Array,
      };
    });
    const asked = split.answer ?? split.val;
    const predicted = tf.tidy(
      () => head.predict(asked.length > 0 ? tf.tensor2d(rows(asked), [asked.length, size]) : val.x) as tf.Tensor2D,
    );
    const answers = (await predicted.array()).map((row) => Float32Array.from(row));
    predicted.dispose();
    return { weights, history, bestEpoch: best?.epoch ?? 0, valProbabilities: asked.length > 0 ? answers : [] };
  } finally {
    best?.weights.forEach((w) => w.dispose());
    head.dispose();
    // The optimizer's moments are not the model's to dispose.
    optimizer.dispose();
    tf.dispose([train.x, train.y, val.x, val.y]);
  }
}

const ranked = (p: Float32Array) => Array.from(p.keys()).sort((a, b) => p[b]! - p[a]!);

/** The validation images (`val`, with their `probabilities` in the same order) scored with the shared metrics. */
export function validationReport(
  probabilities: readonly Float32Array[],
  truth: readonly number[],
  val: readonly number[],
  labels: readonly string[],
): EvaluationReport {
  return evaluate(
    val.map((i, k) => ({ truth: truth[i]!, ranked: ranked(probabilities[k]!), ms: 0 })),
    labels,
  );
}

/** Each validation image's answer, for the Review panel: which image, the class it got, how sure. */
export function reviewOf(
  indices: readonly number[],
  probabilities: readonly Float32Array[],
  side: ReviewEntry['side'],
): ReviewEntry[] {
  return indices.map((index, k) => {
    const [predicted] = ranked(probabilities[k]!);
    return { index, side, predicted: predicted!, confidence: probabilities[k]![predicted!]! };
  });
}
