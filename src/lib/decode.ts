import { CorruptImageError, ImageTooLargeError } from '../core/errors';
import { inspectImage, LIMITS, type ImageHeader } from './image-header';

/**
 * File/Blob → an upright ImageBitmap ready to transfer to the worker. The header
 * is checked first; decoding itself happens off the main thread in the browser.
 */
export async function decodeImage(file: Blob): Promise<{ bitmap: ImageBitmap; header: ImageHeader }> {
  if (file.size > LIMITS.maxBytes) throw new ImageTooLargeError(`the file is ${file.size} bytes; the limit is ${LIMITS.maxBytes}`);
  const header = inspectImage(new Uint8Array(await file.arrayBuffer()));
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    return { bitmap, header };
  } catch {
    throw new CorruptImageError('the browser could not decode this image');
  }
}
