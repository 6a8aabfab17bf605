import * as tf from '@tensorflow/tfjs-core';
import { cropBox } from '../../src/core/model-input';
import type { ModelSpec } from '../../src/core/model-spec';
import type { Pixels } from '../../src/core/model-input';

/**
 * The model's input made with tfjs ops, as a tfjs page does it: the whole photo as a
 * tensor, sliced to RGB, cast, cropped and resized by `cropAndResize`, then scaled. The
 * baseline page measures this way; the unit tests hold Glimpse's plain-JS input to it.
 */
export function opsInputTensor(pixels: Pixels, spec: ModelSpec): tf.Tensor4D {
  const { width, height, channels } = pixels;
  return tf.tidy(() => {
    const image = tf.tensor4d(Int32Array.from(pixels.data), [1, height, width, channels], 'int32');
    const rgb = channels === 4 ? tf.slice(image, [0, 0, 0, 0], [1, height, width, 3]) : image;
    const resized = tf.image.cropAndResize(
      tf.cast(rgb, 'float32'),
      [cropBox(width, height, spec)],
      [0],
      [spec.inputSize[0], spec.inputSize[1]],
      'bilinear',
    );
    const [lo, hi] = spec.range;
    return tf.add(tf.mul(resized, (hi - lo) / 255), lo);
  });
}
