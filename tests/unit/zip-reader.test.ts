import { deflateSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { crc32, readZip } from '../../model/zip-reader';
import { rawZip, stored, type LocalEntry } from '../helpers/zip-files';

const LIMITS = { maxEntries: 1000, maxBytes: 300 * 1024 * 1024 };
const all = () => true;
const text = (s: string) => new TextEncoder().encode(s);
const deflated = (name: string, data: Uint8Array, size = data.length): LocalEntry => ({
  name,
  data: deflateSync(data),
  method: 8,
  size,
  crc: crc32(data),
});

describe('reading a model .zip', () => {
  it('reads what zip tools write: stored and deflated entries, in folders', () => {
    const zip = zipSync({
      'm/model.json': [text('{"a":1}'.repeat(100)), { level: 9 }],
      'm/labels.json': [text('["x"]'), { level: 0 }],
    });
    expect(readZip(zip, 'm.zip', LIMITS, all).map((e) => [e.path, new TextDecoder().decode(e.bytes).length])).toEqual([
      ['m/model.json', 700],
      ['m/labels.json', 5],
    ]);
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
  });

  it('refuses entries whose data overlap (one stored megabyte named by 200 records declaring size 0), before inflating anything', () => {
    const big = stored('weights.bin', new Uint8Array(1 << 20).fill(7));
    const zip = rawZip(
      [big],
      Array.from({ length: 200 }, (_, i) => ({ entry: 0, name: `w${i}.bin`, size: 0 })),
    );
    const started = performance.now();
    expect(() => readZip(zip, 'bomb.zip', LIMITS, all)).toThrow(
      /bomb\.zip: the entry "w0\.bin" is stored, but declares 0 bytes for 1048576/,
    );
    const honest = rawZip(
      [big],
      Array.from({ length: 200 }, (_, i) => ({ entry: 0, name: `w${i}.bin` })),
    );
    expect(() => readZip(honest, 'bomb.zip', LIMITS, all)).toThrow(/the entries "w\d+\.bin" and "w\d+\.bin" overlap/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('stops inflating an entry as soon as it passes its declared size', () => {
    const zeros = deflated('model.json', new Uint8Array(64 << 20), 1);
    expect(zeros.data.length).toBeLessThan(100_000);
    expect(() => readZip(rawZip([zeros]), 'zeros.zip', LIMITS, all)).toThrow(
      /zeros\.zip: the entry "model\.json" inflates past the 1 bytes it declares/,
    );
    const short = deflated('model.json', text('{"a":1}'), 100);
    expect(() => readZip(rawZip([short]), 's.zip', LIMITS, all)).toThrow(/holds 7 bytes, not the 100 it declares/);
  });

  it('counts the declared sizes of what it keeps against the limit before inflating any', () => {
    const entries = [0, 1, 2].map((i) => deflated(`w${i}.bin`, new Uint8Array(10), 200 * 1024 * 1024));
    expect(() => readZip(rawZip(entries), 'big.zip', LIMITS, all)).toThrow(/big\.zip would unpack to over 300 MB/);
  });

  it('refuses a name given twice, a damaged entry, too many entries, and unsafe paths', () => {
    const a = stored('labels.json', text('["a"]'));
    expect(() => readZip(rawZip([a, stored('labels.json', text('["b"]'))]), 'twice.zip', LIMITS, all)).toThrow(
      /the entry "labels\.json" is in the archive twice/,
    );
    expect(() => readZip(rawZip([a], [{ entry: 0, crc: 1234 }]), 'crc.zip', LIMITS, all)).toThrow(
      /fails its CRC-32 check/,
    );
    const many = Array.from({ length: 1001 }, (_, i) => stored(`f${i}`, new Uint8Array(0)));
    expect(() => readZip(rawZip(many), 'many.zip', LIMITS, () => false)).toThrow(
      /many\.zip: has 1001 entries; a model's \.zip has at most 1000/,
    );
    for (const path of ['../evil.json', '/etc/passwd', 'C:/x.bin', 'a/../../b']) {
      expect(() => readZip(rawZip([stored(path, text('x'))]), 'p.zip', LIMITS, all), path).toThrow(
        /is not a plain relative path/,
      );
    }
    expect(() => readZip(text('PK not a zip'), 'x.zip', LIMITS, all)).toThrow(/x\.zip is not a readable \.zip/);
  });

  it('reads only the entries asked for, but checks every entry’s place', () => {
    const zip = rawZip([stored('keep.json', text('[1]')), stored('skip.bin', new Uint8Array(8))]);
    expect(readZip(zip, 'k.zip', LIMITS, (p) => p.endsWith('.json')).map((e) => e.path)).toEqual(['keep.json']);
  });
});
