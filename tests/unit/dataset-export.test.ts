import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { datasetCsv, datasetZip } from '../../src/lib/dataset-export';

const photo = (name: string, label: string, bytes = name) => ({ file: new File([bytes], name), label });

describe('the curated dataset export', () => {
  it('lists each photo and its class as CSV, neutralising what a spreadsheet would run', () => {
    expect(datasetCsv([photo('a.jpg', 'cat'), photo('=cmd.jpg', 'dog, big')])).toBe(
      'file,class\na.jpg,cat\n\'=cmd.jpg,"dog, big"\n',
    );
  });

  it('packs a folder per class with the photos byte for byte, numbering names a class has twice, and keeps every entry inside its folder', async () => {
    const zip = unzipSync(
      new Uint8Array(
        await (
          await datasetZip([
            photo('a.jpg', 'cat', 'one'),
            photo('a.jpg', 'cat', 'two'),
            photo('b', 'cat', 'three'),
            photo('b', 'cat', 'four'),
            photo('x.png', '../..', 'up'),
            photo('z.png', '..', 'dots'),
            photo('y.png', 'a/b', 'nested'),
          ])
        ).arrayBuffer(),
      ),
    );
    expect(
      Object.fromEntries(Object.entries(zip).map(([name, bytes]) => [name, new TextDecoder().decode(bytes)])),
    ).toEqual({
      'cat/a.jpg': 'one',
      'cat/a-2.jpg': 'two',
      'cat/b': 'three',
      'cat/b-2': 'four',
      '.._../x.png': 'up',
      '_../z.png': 'dots',
      'a_b/y.png': 'nested',
    });
  });

  it('streams a large set through without holding it whole, and reports progress', async () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const seen: number[] = [];
    const blob = await datasetZip(
      Array.from({ length: 12 }, (_, i) => ({ file: new File([big], `p${i}.jpg`), label: `c${i % 3}` })),
      (done) => seen.push(done),
    );
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const zip = unzipSync(new Uint8Array(await blob.arrayBuffer()));
    expect(Object.keys(zip)).toHaveLength(12);
    expect(zip['c1/p4.jpg']!.every((v, i) => v === i % 251)).toBe(true);
  });
});
