import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from './model-spec';

/** Decoded pixels, row-major, 3 (RGB) or 4 (RGBA, alpha already flattened) channels per pixel. */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 3 | 4;
}

/**
 * Largest size a decoded image is resampled to before it becomes a tensor. Bilinear
 * resizing aliases when it shrinks by more than 2x, so the platform's antialiased
 * resampler (canvas in the browser, sharp in Node) first brings big images down to
 * twice the model input; images already that small are used untouched.
 */
export function downscaleTarget(width: number, height: number, spec: ModelSpec): { width: number; height: number } {
  const limit = 2 * Math.max(...spec.inputSize);
  const scale = limit / Math.min(width, height);
  if (scale >= 1) return { width, height };
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Crop box [y1, x1, y2, x2] in cropAndResize's normalised coordinates (pixel p ↦ p / (size-1)). */
export function cropBox(width: number, height: number, spec: Pick<ModelSpec, 'fit' | 'centralCrop'>): [number, number, number, number] {
  const norm = (p: number, size: number) => (size > 1 ? p / (size - 1) : 0);
  if (spec.fit === 'squash') return [0, 0, 1, 1];
  const side = spec.centralCrop * Math.min(width, height);
  const top = (height - side) / 2;
  const left = (width - side) / 2;
  return [norm(top, height), norm(left, width), norm(top + side - 1, height), norm(left + side - 1, width)];
}

/**
 * Pixels → the model's input batch [1, H, W, 3]: central crop, bilinear resize and
 * normalisation, all read from the model's spec. The browser worker and the Node
 * tools both call this, so reported accuracy and in-app results share one code path.
 */
export function toInputTensor(pixels: Pixels, spec: ModelSpec): tf.Tensor4D {
  const { width, height, channels } = pixels;
  if (pixels.data.length !== width * height * channels) {
    throw new RangeError(`pixel buffer has ${pixels.data.length} bytes, expected ${width}x${height}x${channels}`);
  }
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
