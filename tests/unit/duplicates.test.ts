import { describe, expect, it } from 'vitest';
import { laterDuplicates, sha256 } from '../../src/core/duplicates';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('exact duplicates among training photos', () => {
  it('finds each later copy, keeps the first, and reads only photos whose size another shares', async () => {
    const files = [bytes(1, 2, 3), bytes(9, 9), bytes(1, 2, 3), bytes(4, 5, 6), bytes(1, 2, 3), bytes(7)];
    const read: number[] = [];
    const later = await laterDuplicates(
      files.map((f) => f.byteLength),
      (i) => {
        read.push(i);
        return sha256(files[i]!);
      },
    );
    expect([...later].sort()).toEqual([2, 4]);
    // 9,9 and 7 have sizes of their own: never read.
    expect(read.sort()).toEqual([0, 2, 3, 4]);
  });

  it('finds nothing in a set without copies, and a copy of a copy is still one photo', async () => {
    expect((await laterDuplicates([3, 3], (i) => sha256(bytes(i, 0, 0)))).size).toBe(0);
    expect([...(await laterDuplicates([1, 1, 1], () => sha256(bytes(5))))]).toEqual([1, 2]);
    expect(await sha256(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
