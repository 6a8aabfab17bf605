/** Training settings and figures, without tfjs: the page shows and edits them. */

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  batchSize: number;
  /** Share of each class held out for validation. */
  validation: number;
  seed: number;
  /** Epochs without a better validation loss before stopping. */
  patience: number;
  /** Units of an optional hidden layer (0: none), with dropout. */
  hidden: number;
  /** Train on the mirror image of each training image too. */
  flip: boolean;
  /** Train on a random crop (80–95% of each side) of each training image too. */
  cropJitter: boolean;
  /** A trained softmax head, or few-shot nearest neighbour on the features (no training). */
  method: 'head' | 'nearest';
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  epochs: 20,
  learningRate: 0.001,
  batchSize: 16,
  validation: 0.2,
  seed: 42,
  patience: 5,
  hidden: 0,
  flip: false,
  cropJitter: false,
  method: 'head',
};

export interface EpochFigures {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
}

/**
 * An image's answer after training, by a model that did not learn from it: a validation image's by the
 * head; a training image's by a head trained without it (out of fold); every image's, leave-one-out, for
 * nearest neighbour (whose images all train it: side `training`).
 */
export interface ReviewEntry {
  /** The image's index in the run's input. */
  index: number;
  side: 'training' | 'validation';
  predicted: number;
  /** The predicted class's probability. */
  confidence: number;
}
