import type { TrainImageInput } from '../src/core/classifier-types';
import { CorruptImageError } from '../src/core/errors';
import { inspectImage } from '../src/core/image-header';

/**
 * The photos of the next run, training or making a smaller model: the page sends them a slice at
 * a time (`first` starts a new set), and each is read and checked only when the run comes to it.
 */
let staged: TrainImageInput[] = [];

export function stagePhotos(images: TrainImageInput[], first: boolean): void {
  if (first) staged = [];
  staged.push(...images);
}

export const stagedPhotos = (): readonly TrainImageInput[] => staged;

/** A photo's bytes, once they passed the page's checks: a run may start before the page has checked every photo of a large folder. */
export async function checkedBytes(data: Blob): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(await data.arrayBuffer());
  inspectImage(bytes);
  return bytes;
}

/** A photo's decoded bitmap, as the browser turns it upright. */
export function decodePhoto(data: Blob): Promise<ImageBitmap> {
  return createImageBitmap(data, { imageOrientation: 'from-image' }).catch(() => {
    throw new CorruptImageError('the browser could not decode this image');
  });
}
