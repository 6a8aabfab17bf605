import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inspectImage, inspectImageFile } from '../../src/core/image-header';
import { badImages } from '../helpers/bad-images';
import { FIXTURES } from '../helpers/model';

describe('inspectImage', () => {
  it.each([
    ['parrot.jpg', 'jpg', 'image/jpeg', 512, 929],
    ['cat.png', 'png', 'image/png', 512, 341],
  ])('identifies %s by its bytes and reads its size', (file, type, mime, width, height) => {
    expect(inspectImage(new Uint8Array(readFileSync(resolve(FIXTURES, file))))).toEqual({ type, mime, width, height });
  });

  it('says when EXIF turns a photo a quarter, as the decoder will, so that its shown width and height are known', async () => {
    const photo = readFileSync(resolve(FIXTURES, 'parrot.jpg'));
    for (const [orientation, turned] of [
      [1, false],
      [3, false],
      [6, true],
      [8, true],
    ] as const) {
      const bytes = new Uint8Array(await sharp(photo).withMetadata({ orientation }).jpeg().toBuffer());
      expect(inspectImage(bytes)).toEqual({
        type: 'jpg',
        mime: 'image/jpeg',
        width: 512,
        height: 929,
        ...(turned ? { turned: true } : {}),
      });
    }
  });

  it.each(badImages().map((b) => [b.name, b] as const))('refuses %s with a specific error', (_, bad) => {
    expect(() => inspectImage(bad.bytes)).toThrow(expect.objectContaining({ name: bad.error }));
  });
});

describe('inspectImageFile (the start and end of a file only)', () => {
  /** A JPEG with a 300 kB comment segment (as big EXIF or XMP blocks are) before its size, and one without. */
  const parrot = new Uint8Array(readFileSync(resolve(FIXTURES, 'parrot.jpg')));
  const padded = (bytes: number) => {
    const segments: Buffer[] = [];
    for (let left = bytes; left > 0; left -= 65_000) {
      const n = Math.min(65_000, left);
      segments.push(Buffer.from([0xff, 0xfe, (n + 2) >> 8, (n + 2) & 0xff]), Buffer.alloc(n, 0x20));
    }
    return new Blob([parrot.subarray(0, 2), ...segments.map((b) => new Uint8Array(b)), parrot.subarray(2)]);
  };

  it('reads the same header as the whole file does, for a big file too, and one whose header lies past the first bytes', async () => {
    const expected = inspectImage(parrot);
    expect(await inspectImageFile(new Blob([parrot]))).toEqual(expected);
    expect(await inspectImageFile(padded(40_000))).toEqual(expected);
    expect(await inspectImageFile(padded(300_000))).toEqual(expected);
  });

  it('refuses a big file cut short, and every bad image, as inspectImage does', async () => {
    const whole = await padded(300_000).arrayBuffer();
    await expect(inspectImageFile(new Blob([whole.slice(0, whole.byteLength - 5000)]))).rejects.toMatchObject({
      name: 'CorruptImageError',
    });
    for (const bad of badImages())
      await expect(inspectImageFile(new Blob([new Uint8Array(bad.bytes)]))).rejects.toMatchObject({ name: bad.error });
  });
});
