import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ErrorName } from '../../src/core/errors';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');

export interface BadImage {
  name: string;
  bytes: Uint8Array;
  error: ErrorName;
}

/** A PNG whose header claims a size it does not have: a decompression bomb in 33 bytes. */
function pngHeader(width: number, height: number): Uint8Array {
  const png = new Uint8Array(readFileSync(resolve(FIXTURES, 'cat.png')).subarray(0, 33));
  const view = new DataView(png.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return png;
}

/** The parrot JPEG with its SOF0 frame size rewritten. */
function jpegClaiming(width: number, height: number): Uint8Array {
  const jpeg = new Uint8Array(readFileSync(resolve(FIXTURES, 'parrot.jpg')));
  for (let i = 2; i < jpeg.length - 9;) {
    const marker = jpeg[i + 1]!;
    const length = (jpeg[i + 2]! << 8) | jpeg[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      const view = new DataView(jpeg.buffer);
      view.setUint16(i + 5, height);
      view.setUint16(i + 7, width);
      return jpeg;
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker in parrot.jpg');
}

function seededBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0x13; // no image format starts with this byte
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);

/** Every kind of bad input the app must refuse with a specific error, and then keep working. */
export function badImages(): BadImage[] {
  const jpeg = readFileSync(resolve(FIXTURES, 'parrot.jpg'));
  const png = readFileSync(resolve(FIXTURES, 'cat.png'));
  return [
    { name: 'empty.jpg', bytes: new Uint8Array(0), error: 'EmptyFileError' },
    { name: 'one-byte.png', bytes: new Uint8Array([0x89]), error: 'CorruptImageError' },
    { name: 'random.jpg', bytes: seededBytes(4096), error: 'NotAnImageError' },
    {
      name: 'page.png',
      bytes: text('<!doctype html><html><body>not an image</body></html>'),
      error: 'NotAnImageError',
    },
    {
      name: 'script.svg',
      bytes: text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'),
      error: 'UnsupportedFormatError',
    },
    {
      name: 'photo.heic',
      bytes: new Uint8Array([0, 0, 0, 0x18, ...text('ftypheic'), 0, 0, 0, 0, ...text('mif1heic')]),
      error: 'UnsupportedFormatError',
    },
    { name: 'truncated.jpg', bytes: new Uint8Array(jpeg.subarray(0, jpeg.length >> 1)), error: 'CorruptImageError' },
    { name: 'truncated.png', bytes: new Uint8Array(png.subarray(0, png.length >> 1)), error: 'CorruptImageError' },
    { name: 'bomb.png', bytes: pngHeader(100_000, 100_000), error: 'ImageTooLargeError' },
    { name: 'bomb.jpg', bytes: jpegClaiming(65_535, 65_535), error: 'ImageTooLargeError' },
    { name: 'needle.png', bytes: pngHeader(1, 100_000), error: 'ImageTooLargeError' },
    { name: 'sliver.png', bytes: pngHeader(16_000, 20), error: 'ImageShapeError' },
  ];
}
