import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { isErrorName } from '../../src/core/errors';
import { readTflite } from '../../src/core/tflite/reader';
import { prepareImport } from '../../model/model-import';
import type { ImportFile } from '../../model/prepared-model';
import { FIXTURES } from '../helpers/model';
import { teachableMachineExport } from '../helpers/teachable-machine';
import { fieldPlaces, tinyTflite, type FieldPlace } from '../helpers/tflite-files';
import { hostileOnnx, nestedIfOnnx, tinyOnnx } from '../helpers/onnx-files';
import { seededRandom } from '../../src/core/stats';

/**
 * Crafted model files against the importer (the code the Models view runs in the worker):
 * every case must end in a typed error or a model, never in a crash, a hang or memory
 * without bound. GLIMPSE_FUZZ_MODELS=N runs N times as many cases.
 */
const SCALE = Math.max(1, Number(process.env.GLIMPSE_FUZZ_MODELS ?? 1));
const MEMORY_BOUND = 200 * 1024 * 1024;

const random = seededRandom;
type Rng = ReturnType<typeof random>;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const setUint32 = (bytes: Uint8Array, pos: number, value: number) =>
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(pos, value >>> 0, true);
const getUint32 = (bytes: Uint8Array, pos: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(pos, true);

/** One hostile variant of a TFLite file: bits flipped, cut short, or an offset, length or shape entry set to an edge value. */
function mutateTflite(
  source: Uint8Array,
  places: FieldPlace[],
  rng: Rng,
  kinds: readonly string[],
): { bytes: Uint8Array; what: string } {
  const bytes = source.slice();
  const kind = pick(rng, kinds);
  if (kind === 'truncate') {
    const length = Math.floor(rng() * bytes.length);
    return { bytes: bytes.subarray(0, length), what: `cut to ${length} bytes` };
  }
  if (kind === 'flip') {
    const flips = 1 + Math.floor(rng() * 4);
    for (let i = 0; i < flips; i++) {
      // Mostly in the structure (the weights' bytes are data: any value is valid there).
      const pos =
        rng() < 0.8
          ? Math.min(bytes.length - 1, pick(rng, places).pos + Math.floor(rng() * 4))
          : Math.floor(rng() * bytes.length);
      bytes[pos]! ^= 1 << Math.floor(rng() * 8);
    }
    return { bytes, what: `${flips} bit(s) flipped` };
  }
  const candidates = places.filter((p) => (kind === 'shape' ? p.kind === 'shape' : p.kind !== 'shape'));
  const place = pick(rng, candidates);
  const old = getUint32(bytes, place.pos);
  const values =
    kind === 'shape'
      ? [0, -1, -(2 ** 31), 2 ** 31 - 1, 100_000_000, 1 << 20]
      : [
          0,
          0xffffffff,
          0x7fffffff,
          0x80000000,
          bytes.length,
          bytes.length + 1,
          bytes.length - 1,
          old + 1,
          old - 1,
          old * 2,
        ];
  const value = pick(rng, values);
  setUint32(bytes, place.pos, value);
  return { bytes, what: `${place.where} (${place.kind}) ${old} → ${value}` };
}

/** Every value in a JSON tree with its path, for replacing one of them. */
function paths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [path];
  return [
    path,
    ...Object.entries(value).flatMap(([k, v]) => paths(v, [...path, Array.isArray(value) ? Number(k) : k])),
  ];
}
const HOSTILE_JSON: unknown[] = [
  1e9,
  -1,
  2 ** 31,
  0,
  1.5,
  'NaN',
  '1e9',
  null,
  [],
  {},
  '__proto__',
  '../x',
  'https://example.com/w.bin',
  [1e6, 1e6, 1e6, 3],
  [-1, 224, 224, 3],
  Array(5000).fill('x'),
];

/** One hostile variant of a Teachable Machine export: a value in model.json or metadata.json replaced, the weights cut or grown, or text flipped. */
function mutateExport(files: ImportFile[], rng: Rng): { files: ImportFile[]; what: string } {
  const [model, weights, metadata] = files as [ImportFile, ImportFile, ImportFile];
  const kind = pick(rng, ['model.json', 'model.json', 'metadata.json', 'weights', 'text']);
  if (kind === 'weights') {
    const change = pick(rng, [-100, -4, -1, 1, 4, 100, -weights.bytes.length]);
    const bytes = new Uint8Array(Math.max(0, weights.bytes.length + change));
    bytes.set(weights.bytes.subarray(0, bytes.length));
    return {
      files: [model, { name: weights.name, bytes }, metadata],
      what: `weights.bin ${change > 0 ? '+' : ''}${change} bytes`,
    };
  }
  if (kind === 'text') {
    const bytes = model.bytes.slice();
    const pos = Math.floor(rng() * bytes.length);
    bytes[pos]! ^= 1 << Math.floor(rng() * 7);
    return { files: [{ name: model.name, bytes }, weights, metadata], what: `model.json byte ${pos} flipped` };
  }
  const file = kind === 'model.json' ? model : metadata;
  const tree = JSON.parse(new TextDecoder().decode(file.bytes));
  const path = pick(
    rng,
    paths(tree).filter((p) => p.length > 0),
  );
  const value = pick(rng, HOSTILE_JSON);
  let node = tree;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path.at(-1)!] = value;
  const mutated = { name: file.name, bytes: new TextEncoder().encode(JSON.stringify(tree)) };
  return {
    files: kind === 'model.json' ? [mutated, weights, metadata] : [model, weights, mutated],
    what: `${file.name} ${path.join('.')} = ${JSON.stringify(value)?.slice(0, 40)}`,
  };
}

/** Outcomes of a fuzz run: models accepted, errors by name, and the largest memory growth seen. */
class Tally {
  valid = 0;
  readonly errors: Record<string, number> = {};
  readonly untyped: string[] = [];
  readonly unclear: string[] = [];
  private readonly start = process.memoryUsage().rss;
  peakGrowth = 0;

  run(what: string, attempt: () => unknown): void {
    try {
      attempt();
      this.valid++;
    } catch (error) {
      const name = (error as Error)?.name;
      if (isErrorName(name)) this.errors[name] = (this.errors[name] ?? 0) + 1;
      else this.untyped.push(`${what}: ${String(error)}`);
      // A refusal names what is wrong: a size it could not compute ("needs NaN") or an object it printed says nothing.
      if (/\b(needs|holds?|hold|is|of) NaN\b|\[object \w+\]/.test((error as Error)?.message ?? ''))
        this.unclear.push(`${what}: ${(error as Error).message}`);
    }
    this.peakGrowth = Math.max(this.peakGrowth, process.memoryUsage().rss - this.start);
  }

  get cases(): number {
    return this.valid + Object.values(this.errors).reduce((a, b) => a + b, 0) + this.untyped.length;
  }

  report(name: string): string {
    return `${name}: ${this.cases} cases, ${this.valid} valid models, errors ${JSON.stringify(this.errors)}, untyped ${this.untyped.length}, peak memory growth ${(this.peakGrowth / 1024 / 1024).toFixed(0)} MB`;
  }
}

const REAL = new Uint8Array(readFileSync(resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite')));
const importTflite = (bytes: Uint8Array) => prepareImport([{ name: 'model.tflite', bytes }]);

describe('crafted model files', () => {
  let tm: ImportFile[];
  beforeAll(async () => {
    tm = await teachableMachineExport(16);
  });

  it('the findings: huge vector lengths, a shape of 100 million entries and a buffer past the end are refused at once, naming the field', () => {
    const places = fieldPlaces(REAL);
    const at = (where: string, kind: FieldPlace['kind']) =>
      places.find((p) => p.where === where && p.kind === kind)!.pos;
    for (const vector of ['model.buffers', 'model.subgraphs[0].operators', 'model.subgraphs[0].tensors']) {
      const bytes = REAL.slice();
      setUint32(bytes, at(vector, 'length'), 2 ** 31 - 8);
      expect(() => importTflite(bytes), vector).toThrow(
        new RegExp(`${vector.replace(/[[\].]/g, '\\$&')}: claims 2147483640 entries, but the file has room for \\d+`),
      );
    }
    const input = readTflite(REAL).inputs[0]!;
    const shape = REAL.slice();
    setUint32(shape, at(`model.subgraphs[0].tensors[${input}].shape`, 'length'), 100_000_000);
    expect(() => importTflite(shape)).toThrow(/tensors\[\d+\]\.shape: claims 100000000 entries/);
    const pastEnd = REAL.slice();
    const data = places.find((p) => /^model\.buffers\[\d+\]\.data$/.test(p.where) && p.kind === 'offset')!;
    setUint32(pastEnd, data.pos, REAL.length - data.pos + 16);
    expect(() => importTflite(pastEnd)).toThrow(`${data.where}: points past the end of the file`);
    for (const bytes of [shape, pastEnd])
      expect(() => importTflite(bytes)).toThrow(expect.objectContaining({ name: 'ModelFormatError' }));
  });

  it(
    `end in a typed error or a valid model, with memory bounded (${2600 * SCALE}+ seeded cases)`,
    () => {
      const tally = new Tally();
      const tiny = tinyTflite();
      const tinyPlaces = fieldPlaces(tiny);
      const rng = random(20261204);
      for (let i = 0; i < 1000 * SCALE; i++) {
        const { bytes, what } = mutateTflite(tiny, tinyPlaces, rng, ['flip', 'truncate', 'field', 'field', 'shape']);
        tally.run(`tiny.tflite #${i} ${what}`, () => importTflite(bytes));
      }
      // The real file costs ~0.3 s per accepted model: only structural edits that should be refused.
      const realPlaces = fieldPlaces(REAL).filter((p) => p.kind !== 'shape');
      for (let i = 0; i < 30 * SCALE; i++) {
        const place = pick(rng, realPlaces);
        const bytes = REAL.slice();
        const value = pick(rng, [0xffffffff, 0x7fffffff, REAL.length, REAL.length + 1]);
        setUint32(bytes, place.pos, value);
        tally.run(`mobilenet #${i} ${place.where} = ${value}`, () => importTflite(bytes));
      }
      for (let i = 0; i < 400 * SCALE; i++) {
        const { files, what } = mutateExport(tm, rng);
        tally.run(`tm #${i} ${what}`, () => prepareImport(files));
      }
      // The same export as a .zip: its directory (the last bytes) flipped, or a field there set to an edge value.
      const zip = zipSync(Object.fromEntries(tm.map((f) => [`export/${f.name}`, f.bytes])));
      for (let i = 0; i < 200 * SCALE; i++) {
        const bytes = zip.slice();
        const pos = bytes.length - 1 - Math.floor(rng() * Math.min(300, bytes.length));
        if (rng() < 0.5) bytes[pos]! ^= 1 << Math.floor(rng() * 8);
        else
          setUint32(
            bytes,
            Math.min(pos, bytes.length - 4),
            pick(rng, [0, 0xffffffff, 0x7fffffff, bytes.length, bytes.length + 1, 1 << 30]),
          );
        tally.run(`tm.zip #${i} at ${pos}`, () => prepareImport([{ name: 'export.zip', bytes }]));
      }
      // ONNX models: bytes flipped or set to varint edge values (a length that runs on), or cut short. Besides the
      // plain one, a data-dependent Loop (its body a subgraph) and If nodes nested three deep: the walker reads
      // every subgraph, and nothing here runs a model.
      const onnxModels = [
        { name: 'tiny.onnx', bytes: tinyOnnx({ classes: 4, softmax: true }), labels: 'a\nb\nc\nd', cases: 600 },
        {
          name: 'loop.onnx',
          bytes: hostileOnnx({ trigger: 'bright-pixel', attack: 'hang' }),
          labels: 'a\nb\nc',
          cases: 200,
        },
        { name: 'nested-if.onnx', bytes: nestedIfOnnx({ depth: 3, nodes: 4 }), labels: 'a\nb\nc', cases: 200 },
      ];
      for (const model of onnxModels) {
        const labels = { name: 'labels.txt', bytes: new TextEncoder().encode(model.labels) };
        expect(prepareImport([{ name: 'model.onnx', bytes: model.bytes }, labels]).labels.length).toBe(
          model.labels.split('\n').length,
        );
        for (let i = 0; i < model.cases * SCALE; i++) {
          const kind = pick(rng, ['flip', 'edge', 'edge', 'truncate'] as const);
          const bytes =
            kind === 'truncate' ? model.bytes.slice(0, Math.floor(rng() * model.bytes.length)) : model.bytes.slice();
          if (kind !== 'truncate') {
            for (let n = 1 + Math.floor(rng() * 3); n > 0; n--) {
              const pos = Math.floor(rng() * bytes.length);
              bytes[pos] =
                kind === 'flip' ? bytes[pos]! ^ (1 << Math.floor(rng() * 8)) : pick(rng, [0x00, 0x7f, 0x80, 0xff]);
            }
          }
          tally.run(`${model.name} #${i} ${kind}`, () => prepareImport([{ name: 'model.onnx', bytes }, labels]));
        }
      }
      console.log(tally.report('model fuzz'));
      expect(tally.untyped).toEqual([]);
      expect(tally.unclear).toEqual([]);
      expect(tally.cases).toBeGreaterThanOrEqual(2600 * SCALE);
      expect(tally.valid).toBeGreaterThan(0);
      expect(Object.keys(tally.errors).length).toBeGreaterThan(0);
      expect(tally.peakGrowth).toBeLessThan(MEMORY_BOUND);
    },
    300_000 * SCALE,
  );
});
