import { WHOLE_IMAGE, viewRect, type ImageView } from '../src/core/augmentation';
import type { Pixels } from '../src/core/model-input';
import { downscaleTarget } from '../src/core/model-input';
import type { ModelSpec } from '../src/core/model-spec';

let canvas: OffscreenCanvas | null = null;

/**
 * ImageBitmap → RGBA pixels. Large photos are shrunk here with the canvas's
 * antialiased resampler (see downscaleTarget); transparency is flattened onto white,
 * as the Node tools do, because the models were trained on opaque photos.
 */
export function bitmapToPixels(bitmap: ImageBitmap, spec: ModelSpec, view: ImageView = WHOLE_IMAGE): Pixels {
  const source = viewRect(view, bitmap.width, bitmap.height);
  const { width, height } = downscaleTarget(source.width, source.height, spec);
  canvas ??= new OffscreenCanvas(width, height);
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2D canvas context in this worker');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  // Training's augmentation looks at mirror images and crops too.
  context.setTransform(view.mirrored ? -1 : 1, 0, 0, 1, view.mirrored ? width : 0, 0);
  context.drawImage(bitmap, source.x, source.y, source.width, source.height, 0, 0, width, height);
  context.setTransform(1, 0, 0, 1, 0, 0);
  return { data: context.getImageData(0, 0, width, height).data, width, height, channels: 4 };
}
