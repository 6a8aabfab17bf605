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
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { epochs: 20, learningRate: 0.001, batchSize: 16, validation: 0.2, seed: 42, patience: 5, hidden: 0, flip: false, cropJitter: false };

export interface EpochFigures {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
}
