import { imageSize } from 'image-size';
import {
  CorruptImageError,
  EmptyFileError,
  ImageShapeError,
  ImageTooLargeError,
  NotAnImageError,
  UnsupportedFormatError,
} from './errors';

/** Limits checked from the header, before the browser is asked to allocate pixels. */
export const LIMITS = {
  maxBytes: 64 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxSide: 16_384,
  maxAspect: 100,
} as const;

/**
 * Formats every browser Glimpse supports decodes with createImageBitmap, with the MIME
 * type a preview of such a file is given (never the type the file claims).
 */
const DECODABLE: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  avif: 'image/avif',
  ico: 'image/x-icon',
};
const NAMED: Record<string, string> = {
  heic: 'HEIC',
  heif: 'HEIF',
  tiff: 'TIFF',
  psd: 'Photoshop',
  jxl: 'JPEG XL',
  'jxl-stream': 'JPEG XL',
  jp2: 'JPEG 2000',
  j2c: 'JPEG 2000',
  svg: 'SVG',
};

export interface ImageHeader {
  type: string;
  /** The MIME type of the detected format, e.g. image/jpeg. */
  mime: string;
  width: number;
  height: number;
  /** Turned a quarter by its EXIF orientation (5–8): shown with its width and height swapped. */
  turned?: true;
}

/** The size limits, for every kind of input: a file's header, an ImageBitmap, a video frame. */
export function checkShape(width: number, height: number): void {
  if (width > LIMITS.maxSide || height > LIMITS.maxSide || width * height > LIMITS.maxPixels) {
    throw new ImageTooLargeError(
      `${width}×${height} is beyond the limit of ${LIMITS.maxPixels / 1e6} megapixels or ${LIMITS.maxSide} px a side`,
    );
  }
  if (Math.max(width, height) / Math.min(width, height) > LIMITS.maxAspect) {
    throw new ImageShapeError(`${width}×${height} is too narrow to classify`);
  }
}

function leadingText(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false })
    .decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
}

/** The major brand of an ISO-BMFF file (AVIF, HEIC…), read before any box parsing can fail. */
function isoBrand(bytes: Uint8Array): string | undefined {
  if (bytes.length < 12) return undefined;
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  return ascii(4, 8) === 'ftyp' ? ascii(8, 12) : undefined;
}

/** JPEG and PNG streams have explicit end markers; a file cut short lacks them even if its header is intact. */
function isTruncated(type: string, tail: Uint8Array): boolean {
  if (type === 'jpg') {
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return false;
    return true;
  }
  if (type === 'png') {
    const iend = [0x49, 0x45, 0x4e, 0x44];
    for (let i = tail.length - 4; i >= 0; i--) if (iend.every((b, j) => tail[i + j] === b)) return false;
    return true;
  }
  return false;
}

/**
 * Identifies an image by its bytes (never its name or MIME type) and reads its
 * dimensions from the header, so bombs and non-images are refused before decoding.
 */
export function inspectImage(bytes: Uint8Array): ImageHeader {
  return inspectParts(bytes, bytes.subarray(Math.max(0, bytes.length - TAIL)), bytes.length);
}

/** The end of a file that the end-marker check reads. */
const TAIL = 4096;
/** Enough of a file's start for the header of every photo seen so far (EXIF, ICC and XMP come before a JPEG's size). */
const HEAD = 64 * 1024;

/**
 * inspectImage for a file, reading only its start and end: checking thousands of photos
 * reads kilobytes each, not megabytes. A header beyond the start reads the whole file.
 */
export async function inspectImageFile(file: Blob): Promise<ImageHeader> {
  if (file.size <= HEAD + TAIL) return inspectImage(new Uint8Array(await file.arrayBuffer()));
  const [head, tail] = await Promise.all([
    file.slice(0, HEAD).arrayBuffer(),
    file.slice(file.size - TAIL).arrayBuffer(),
  ]);
  try {
    return inspectParts(new Uint8Array(head), new Uint8Array(tail), file.size);
  } catch (error) {
    if (error instanceof CorruptImageError && /damaged/.test(error.message))
      return inspectImage(new Uint8Array(await file.arrayBuffer()));
    throw error;
  }
}

function inspectParts(bytes: Uint8Array, tail: Uint8Array, byteLength: number): ImageHeader {
  if (byteLength === 0) throw new EmptyFileError('the file is empty');
  if (byteLength > LIMITS.maxBytes)
    throw new ImageTooLargeError(`the file is ${byteLength} bytes; the limit is ${LIMITS.maxBytes}`);
  const text = leadingText(bytes);
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) {
    throw new UnsupportedFormatError('SVG images are not supported');
  }
  const brand = isoBrand(bytes);
  if (brand !== undefined && brand !== 'avif' && brand !== 'avis') {
    throw new UnsupportedFormatError(`${/^hei|^hev/.test(brand) ? 'HEIC' : 'HEIF'} images are not supported`);
  }
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch (error) {
    const message = (error as Error).message;
    if (/unsupported file type: undefined/.test(message)) throw new NotAnImageError('the file is not an image');
    throw new CorruptImageError(`the image header is damaged (${message})`);
  }
  const type = size.type ?? 'unknown';
  const mime = DECODABLE[type];
  if (!mime) throw new UnsupportedFormatError(`${NAMED[type] ?? type.toUpperCase()} images are not supported`);
  const { width, height } = size;
  if (!(width > 0 && height > 0)) throw new CorruptImageError('the image header has no size');
  checkShape(width, height);
  if (isTruncated(type, tail)) throw new CorruptImageError('the image is incomplete (the file was cut short)');
  return { type, mime, width, height, ...((size.orientation ?? 1) >= 5 ? { turned: true as const } : {}) };
}
