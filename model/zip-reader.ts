import { Inflate } from 'fflate';
import { ModelFormatError } from '../src/core/errors';

/**
 * The entries of a .zip, read from its central directory and checked before a byte is
 * inflated: a bounded entry count, plain relative names given once, every entry's data
 * inside the file and apart from every other's (overlapping entries are how small zips
 * unpack to gigabytes), stored entries as long as they say, and a total within `maxBytes`.
 * Deflated entries are inflated in steps and given up as soon as they pass their declared
 * size; each is checked against its CRC-32. fflate does the inflating; its unzipSync
 * trusts the declared sizes and cannot stop a stream early, hence this reader.
 */

export interface ZipLimits {
  maxEntries: number;
  maxBytes: number;
}

export interface ZipEntry {
  /** The path inside the archive. */
  path: string;
  bytes: Uint8Array;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Compressed bytes inflated per step: deflate expands at most ~1032×, so one step overshoots by ~16 MB at most. */
const STEP = 16 * 1024;

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 (IEEE), as zip stores it; fflate computes one but does not export it. */
export function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

interface CentralRecord {
  path: string;
  method: number;
  flags: number;
  crc: number;
  compressed: number;
  size: number;
  local: number;
}

function isPlainPath(path: string): boolean {
  return !path.startsWith('/') && !/^[a-z]:/i.test(path) && !path.split(/[\\/]/).includes('..');
}

/** Reads the central directory: one record per entry, each checked against the file. */
function records(zip: Uint8Array, name: string, limits: ZipLimits): CentralRecord[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const bad = (why: string): never => {
    throw new ModelFormatError(`${name}: ${why}`);
  };
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ModelFormatError(`${name} is not a readable .zip (no end of central directory)`);
  const count = view.getUint16(eocd + 10, true);
  const directorySize = view.getUint32(eocd + 12, true);
  const directory = view.getUint32(eocd + 16, true);
  if (count === 0xffff || directory === 0xffffffff)
    throw new ModelFormatError(`${name} is a ZIP64 archive: a model is far smaller, save it as a plain .zip`);
  if (count > limits.maxEntries) bad(`has ${count} entries; a model's .zip has at most ${limits.maxEntries}`);
  if (directory + directorySize > eocd) bad('has a central directory that points past its end');
  // A zip appended to other bytes (a .tflite's packed files) may count its offsets from its own start.
  const shift = eocd - directorySize - directory;
  const shifted =
    count > 0 && view.getUint32(directory, true) !== CENTRAL && view.getUint32(directory + shift, true) === CENTRAL
      ? shift
      : 0;
  const out: CentralRecord[] = [];
  let at = directory + shifted;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || view.getUint32(at, true) !== CENTRAL) bad(`entry ${i}: the central directory is damaged`);
    const nameLength = view.getUint16(at + 28, true);
    const next = at + 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (next > eocd) bad(`entry ${i}: the central directory is damaged`);
    const path = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    out.push({
      path,
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressed: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      local: view.getUint32(at + 42, true) + shifted,
    });
    at = next;
  }
  return out;
}

/** Inflates a deflate stream, giving up as soon as it passes `size` bytes. */
function inflateAtMost(data: Uint8Array, size: number, where: string): Uint8Array {
  const out = new Uint8Array(size);
  let length = 0;
  const inflater = new Inflate((chunk) => {
    if (length + chunk.length > size)
      throw new ModelFormatError(`${where} inflates past the ${size} bytes it declares`);
    out.set(chunk, length);
    length += chunk.length;
  });
  try {
    for (let i = 0; i < data.length; i += STEP) inflater.push(data.subarray(i, i + STEP), i + STEP >= data.length);
    if (data.length === 0) inflater.push(data, true);
  } catch (error) {
    if ((error as Error).name === 'ModelFormatError') throw error;
    throw new ModelFormatError(`${where} is not readable deflate data (${(error as Error).message})`);
  }
  if (length !== size) throw new ModelFormatError(`${where} holds ${length} bytes, not the ${size} it declares`);
  return out;
}

/** The entries `keep` accepts (by path), read and checked as the comment above says. */
export function readZip(zip: Uint8Array, name: string, limits: ZipLimits, keep: (path: string) => boolean): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const all = records(zip, name, limits);
  const seen = new Set<string>();
  const spans: [number, number, string][] = [];
  let total = 0;
  const wanted: (CentralRecord & { start: number })[] = [];
  for (const record of all) {
    const where = `${name}: the entry "${record.path}"`;
    if (!isPlainPath(record.path)) throw new ModelFormatError(`${where} is not a plain relative path`);
    if (seen.has(record.path)) throw new ModelFormatError(`${where} is in the archive twice`);
    seen.add(record.path);
    if (record.local + 30 > zip.length || view.getUint32(record.local, true) !== LOCAL)
      throw new ModelFormatError(`${where} points to no entry`);
    const start = record.local + 30 + view.getUint16(record.local + 26, true) + view.getUint16(record.local + 28, true);
    if (start + record.compressed > zip.length) throw new ModelFormatError(`${where} runs past the end of the file`);
    spans.push([record.local, start + record.compressed, record.path]);
    if (!keep(record.path)) continue;
    if (record.flags & 1) throw new ModelFormatError(`${where} is encrypted`);
    if (record.method !== 0 && record.method !== 8)
      throw new ModelFormatError(`${where} uses compression method ${record.method}; only stored and deflate are read`);
    if (record.method === 0 && record.compressed !== record.size)
      throw new ModelFormatError(`${where} is stored, but declares ${record.size} bytes for ${record.compressed}`);
    total += record.size;
    if (total > limits.maxBytes)
      throw new ModelFormatError(`${name} would unpack to over ${limits.maxBytes / 1024 / 1024} MB`);
    wanted.push({ ...record, start });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1])
      throw new ModelFormatError(`${name}: the entries "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap`);
  }
  return wanted.map((record) => {
    const where = `${name}: the entry "${record.path}"`;
    const data = zip.subarray(record.start, record.start + record.compressed);
    const bytes = record.method === 0 ? data : inflateAtMost(data, record.size, where);
    if (crc32(bytes) !== record.crc) throw new ModelFormatError(`${where} fails its CRC-32 check: the .zip is damaged`);
    return { path: record.path, bytes };
  });
}
