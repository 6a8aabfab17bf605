import * as tf from '@tensorflow/tfjs-core';
import { inputShape, modelInput, type Pixels } from '../src/core/model-input';
import type { ModelSpec } from '../src/core/model-spec';

/**
 * Pixels → the model's input batch ([1, H, W, 3], or [1, 3, H, W] for an NCHW model): central crop, bilinear resize and
 * normalisation, all read from the model's spec. The browser worker and the Node
 * tools both call this, so reported accuracy and in-app results share one code path.
 * The resampling is plain JS (`modelInput`): one pass over the output instead of
 * copying, slicing and casting the whole photo as tensors first.
 */
export function toInputTensor(pixels: Pixels, spec: ModelSpec): tf.Tensor4D {
  const { width, height, channels } = pixels;
  if (pixels.data.length !== width * height * channels) {
    throw new RangeError(`pixel buffer has ${pixels.data.length} bytes, expected ${width}x${height}x${channels}`);
  }
  return tf.tensor4d(modelInput(pixels, spec), inputShape(spec));
}
