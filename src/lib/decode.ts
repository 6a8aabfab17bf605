import { CorruptImageError, ImageTooLargeError } from '../core/errors';
import { checkShape, inspectImage, LIMITS, type ImageHeader } from '../core/image-header';

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

/** An ImageBitmap from elsewhere (a host page, a camera) meets the same size limits as a file. */
export function checkBitmap(bitmap: ImageBitmap): ImageBitmap {
  try {
    checkShape(bitmap.width, bitmap.height);
    return bitmap;
  } catch (error) {
    bitmap.close();
    throw error;
  }
}

/**
 * A preview of a file that passed the checks, typed as the format its bytes are: a file
 * named page.html that is a real JPEG with script in a comment opens as an image, never
 * as a page in the app's origin.
 */
export function previewUrl(file: Blob, header: ImageHeader): string {
  return URL.createObjectURL(new Blob([file], { type: header.mime }));
}
