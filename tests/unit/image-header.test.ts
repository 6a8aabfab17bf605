import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectImage } from '../../src/lib/image-header';
import { badImages } from '../helpers/bad-images';
import { FIXTURES } from '../helpers/model';

describe('inspectImage', () => {
  it.each([
    ['parrot.jpg', 'jpg', 'image/jpeg', 512, 929],
    ['cat.png', 'png', 'image/png', 512, 341],
  ])('identifies %s by its bytes and reads its size', (file, type, mime, width, height) => {
    expect(inspectImage(new Uint8Array(readFileSync(resolve(FIXTURES, file))))).toEqual({ type, mime, width, height });
  });

  it.each(badImages().map((b) => [b.name, b] as const))('refuses %s with a specific error', (_, bad) => {
    expect(() => inspectImage(bad.bytes)).toThrow(expect.objectContaining({ name: bad.error }));
  });
});
