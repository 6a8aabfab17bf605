import { crc32 } from '../../model/zip-reader';

/**
 * Zips built byte by byte, so a test can make the archives no zip tool would: directory
 * records that point at one another's data, sizes that lie, names given twice.
 */
export interface LocalEntry {
  name: string;
  /** The bytes as stored: raw for method 0, a deflate stream for method 8. */
  data: Uint8Array;
  method: 0 | 8;
  /** The uncompressed size and CRC-32 the local header and, unless overridden, the directory declare. */
  size: number;
  crc: number;
}

export interface DirectoryRecord {
  /** Which local entry the record points at. */
  entry: number;
  name?: string;
  size?: number;
  crc?: number;
}

export const stored = (name: string, data: Uint8Array): LocalEntry => ({
  name,
  data,
  method: 0,
  size: data.length,
  crc: crc32(data),
});

export function rawZip(
  entries: LocalEntry[],
  directory: DirectoryRecord[] = entries.map((_, entry) => ({ entry })),
): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const put = (bytes: Uint8Array) => {
    chunks.push(bytes);
    offset += bytes.length;
  };
  const header = (size: number, fill: (v: DataView) => void) => {
    const bytes = new Uint8Array(size);
    fill(new DataView(bytes.buffer));
    return bytes;
  };
  const name = (text: string) => new TextEncoder().encode(text);
  const locals = entries.map((e) => {
    const at = offset;
    const n = name(e.name);
    put(
      header(30, (v) =>
        [
          [0, 0x04034b50, 4],
          [4, 20, 2],
          [8, e.method, 2],
          [14, e.crc, 4],
          [18, e.data.length, 4],
          [22, e.size, 4],
          [26, n.length, 2],
        ].forEach(([p, x, w]) => (w === 4 ? v.setUint32(p!, x!, true) : v.setUint16(p!, x!, true))),
      ),
    );
    put(n);
    put(e.data);
    return at;
  });
  const start = offset;
  for (const r of directory) {
    const e = entries[r.entry]!;
    const n = name(r.name ?? e.name);
    put(
      header(46, (v) =>
        [
          [0, 0x02014b50, 4],
          [4, 20, 2],
          [6, 20, 2],
          [10, e.method, 2],
          [16, r.crc ?? e.crc, 4],
          [20, e.data.length, 4],
          [24, r.size ?? e.size, 4],
          [28, n.length, 2],
          [42, locals[r.entry]!, 4],
        ].forEach(([p, x, w]) => (w === 4 ? v.setUint32(p!, x!, true) : v.setUint16(p!, x!, true))),
      ),
    );
    put(n);
  }
  const size = offset - start;
  put(
    header(22, (v) =>
      [
        [0, 0x06054b50, 4],
        [8, directory.length, 2],
        [10, directory.length, 2],
        [12, size, 4],
        [16, start, 4],
      ].forEach(([p, x, w]) => (w === 4 ? v.setUint32(p!, x!, true) : v.setUint16(p!, x!, true))),
    ),
  );
  return new Uint8Array(Buffer.concat(chunks));
}
