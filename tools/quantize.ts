import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import * as tf from '@tensorflow/tfjs-core';
import type { Pixels } from '../src/core/model-input';
import { writeModelManifest } from '../build/model-manifest';
import { Engine } from '../model/engine';
import { entryByteLength, type ModelFiles, type TfjsModelFiles } from '../model/model-files';
import { readImageFolder, readManifest } from './dataset';
import { decodeImageFile } from './node-io';
import { loadModelDir, modelFolder, nodeActivate, nodeTfjs, tfjsOnly } from './node-model';
import { prepareImport } from '../model/model-import';
import { readModelSource } from '../build/model-source';
import { runGuard } from './run-guard';
import { fitsFloat16, quantize, type StoredDtype } from '../src/core/weight-encoding';
import { shardWeights } from './shards';
import { encodeSparse, type WeightEntry } from '../model/sparse-weights';

const HELP = `npm run quantize -- --model <model> --out <dir> (--dtype uint8|uint16|float16|float32 | --auto --calibration <csv|dir>)
                      [--keep <dtype>:<pattern> ...] [--max-drop 0.01] [--calibration <csv|dir>] [--limit N]

Rewrites a tfjs graph model's weights in tfjs's quantized format (the Python converter's
algorithm: per-tensor affine uint8/uint16 with 0 exactly representable, or IEEE float16).

  --model        a folder in Glimpse's layout or its model.json, or any model the Models view
                 imports (a TF.js or Teachable Machine export, a .tflite with labels, a .zip)
  --dtype        store every float32 weight as this dtype
  --keep         weights whose name matches the regular expression get this dtype instead,
                 e.g. --keep float16:depthwise (repeatable)
  --auto         choose per tensor between uint8 and float16 by measured effect: the smallest
                 model that changes the top-1 answer of at most --max-drop of the --calibration
                 images (so its top-1 drops by at most that)
  --calibration  labelled images (CSV "path,label" or a folder, as npm run eval takes them);
                 with --dtype, only reports accuracy before and after
  --max-drop     for --auto, the share of answers allowed to change (default 0.01)
  --limit        use only the first N calibration images
Weights beyond ±65504 stay float32 rather than overflow float16.`;

export interface Weight {
  name: string;
  shape: number[];
  dtype: string;
  values: Float32Array | Int32Array;
}

export interface Source {
  dir: string;
  modelJson: tf.io.ModelJSON;
  weights: Weight[];
  files: TfjsModelFiles;
}

export type Plan = Map<string, StoredDtype>;

const MIN_AUTO_VALUES = 1024;

/**
 * A model's weights as float values, with its files: a folder in Glimpse's layout (or its
 * model.json) as it is, anything else the app imports (a TF.js export, a .tflite with labels, a
 * .zip) prepared by the app's importer into a temporary folder first.
 */
export async function readSource(model: string, why = 'quantizing'): Promise<Source> {
  const dir = modelFolder(model) ?? imported(model);
  const files = tfjsOnly(await loadModelDir(dir), why);
  await nodeActivate('cpu');
  const specs = files.artifacts.weightSpecs!;
  const tensors = tf.io.decodeWeights(files.artifacts.weightData!, specs);
  const weights = specs.map((spec) => {
    const tensor = tensors[spec.name]!;
    const values = tensor.dataSync() as Float32Array | Int32Array;
    tensor.dispose();
    return { name: spec.name, shape: spec.shape, dtype: spec.dtype, values };
  });
  return { dir, modelJson: JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), weights, files };
}

/** The importer's Glimpse files for a model given in another layout, written to a temporary folder. */
function imported(model: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-source-'));
  for (const [name, bytes] of Object.entries(prepareImport(readModelSource(model)).files))
    writeFileSync(join(dir, name), bytes);
  return dir;
}

/** The bytes the source's weights occupy as stored (sparse ones as such). */
export function storedBytes(source: Source): number {
  return source.modelJson.weightsManifest.flatMap((g) => g.weights).reduce((sum, w) => sum + entryByteLength(w), 0);
}

export interface Built {
  modelJson: tf.io.ModelJSON;
  shards: Uint8Array[];
  bytes: number;
  counts: Record<StoredDtype | 'int32', number>;
  /** Weights the plan wanted as float16 that had to stay float32. */
  overflow: string[];
}

/** Quantizing a tensor is deterministic: --auto (and pruning's scan) rebuild the model many times, so results are kept per weight. */
const quantized = new WeakMap<Weight, Map<StoredDtype, ReturnType<typeof quantize>>>();

function quantizeOnce(w: Weight, dtype: StoredDtype): ReturnType<typeof quantize> {
  let cache = quantized.get(w);
  if (!cache) quantized.set(w, (cache = new Map()));
  let q = cache.get(dtype);
  if (!q) cache.set(dtype, (q = quantize(w.values as Float32Array, dtype)));
  return q;
}

/** The model with each weight stored as the plan says, in shards under 4 MB; `sparse`: a weight mostly zero (pruned) stored as its non-zero elements and a bitmap. */
export function build(source: Source, plan: Plan, { sparse = false } = {}): Built {
  const counts: Built['counts'] = { float32: 0, float16: 0, uint16: 0, uint8: 0, int32: 0 };
  const overflow: string[] = [];
  const entries: WeightEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const w of source.weights) {
    if (w.dtype !== 'float32') {
      counts.int32++;
      entries.push({ name: w.name, shape: w.shape, dtype: w.dtype as 'int32' });
      chunks.push(new Uint8Array(w.values.slice().buffer));
      continue;
    }
    let dtype = plan.get(w.name) ?? 'float32';
    if (dtype === 'float16' && !fitsFloat16(w.values as Float32Array)) {
      overflow.push(w.name);
      dtype = 'float32';
    }
    const q = quantizeOnce(w, dtype);
    counts[dtype]++;
    const entry: WeightEntry = {
      name: w.name,
      shape: w.shape,
      dtype: 'float32',
      ...(q.quantization ? { quantization: q.quantization } : {}),
    };
    const packed = sparse ? encodeSparse(entry, q.bytes) : null;
    entries.push(packed ? { ...entry, sparse: { kept: packed.kept } } : entry);
    chunks.push(packed ? packed.bytes : q.bytes);
  }
  const { paths, shards, bytes } = shardWeights(chunks);
  const modelJson = { ...source.modelJson, weightsManifest: [{ paths, weights: entries }] };
  return { modelJson, shards, bytes, counts, overflow };
}

/** The built model as the engine's input, without touching the disk. */
export async function asFiles(source: Source, built: Built): Promise<TfjsModelFiles> {
  const artifacts = await tf.io.getModelArtifactsForJSON(built.modelJson, async (groups) => [
    groups.flatMap((g) => g.weights),
    built.shards.map((s) => s.buffer as ArrayBuffer),
  ]);
  return { ...source.files, artifacts };
}

/** Each image's top-1 class on wasm. */
export async function topOnes(files: ModelFiles, images: readonly { pixels: Pixels }[]): Promise<number[]> {
  const engine = new Engine(files, [nodeTfjs], runGuard());
  try {
    await engine.prepare('wasm');
    await engine.select('wasm');
    const out: number[] = [];
    for (const image of images) out.push((await engine.classify(image.pixels, 1)).predictions[0]!.index);
    return out;
  } finally {
    engine.dispose();
  }
}

export function accuracyOf(predicted: readonly number[], images: readonly { truth: number }[]): number {
  return images.length ? predicted.filter((p, i) => p === images[i]!.truth).length / images.length : NaN;
}

export async function topOneAccuracy(
  files: ModelFiles,
  images: readonly { pixels: Pixels; truth: number }[],
): Promise<number> {
  return accuracyOf(await topOnes(files, images), images);
}

export function planFor(source: Source, dtype: StoredDtype, keep: readonly [StoredDtype, RegExp][] = []): Plan {
  return new Map(source.weights.map((w) => [w.name, keep.find(([, pattern]) => pattern.test(w.name))?.[0] ?? dtype]));
}

/** Class probabilities for each image (full vectors), on wasm. */
export async function probabilities(files: ModelFiles, images: readonly { pixels: Pixels }[]): Promise<Float32Array[]> {
  const engine = new Engine(files, [nodeTfjs], runGuard());
  try {
    await engine.prepare('wasm');
    await engine.select('wasm');
    const out: Float32Array[] = [];
    for (const image of images) {
      const p = new Float32Array(files.labels.length);
      for (const { index, probability } of (await engine.classify(image.pixels, files.labels.length)).predictions)
        p[index] = probability;
      out.push(p);
    }
    return out;
  } finally {
    engine.dispose();
  }
}

const SENSITIVITY_IMAGES = 16;

/**
 * The largest set of tensors stored as uint8 (the rest float16) that changes the top-1
 * answer of at most `maxDrop` of the calibration images (so top-1 drops by at most that). Each large tensor's effect
 * is measured first: how far the output probabilities move (L1, on a few calibration
 * images) with only that tensor in uint8. Tensors are then taken least-harmful first, and
 * a binary search finds how many fit the budget: about log2(tensors) more evaluations.
 */
export async function autoPlan(
  source: Source,
  images: readonly { pixels: Pixels; truth: number }[],
  maxDrop: number,
  onStep: (what: string) => void = () => undefined,
): Promise<{ plan: Plan; before: number; after: number }> {
  const floats = source.weights.filter((w) => w.dtype === 'float32');
  // Biases and other small tensors hold almost no bytes: they stay float16.
  const large = floats.filter((w) => w.values.length >= MIN_AUTO_VALUES);
  const allFloat16: Plan = new Map(floats.map((w) => [w.name, 'float16']));
  const probe = images.slice(0, SENSITIVITY_IMAGES);
  const reference = await probabilities(await asFiles(source, build(source, allFloat16)), probe);
  const effect = new Map<string, number>();
  for (const w of large) {
    const moved = await probabilities(
      await asFiles(source, build(source, new Map([...allFloat16, [w.name, 'uint8']]))),
      probe,
    );
    effect.set(
      w.name,
      moved.reduce((sum, p, i) => sum + p.reduce((s, v, j) => s + Math.abs(v - reference[i]![j]!), 0), 0) /
        probe.length,
    );
    onStep(`measured ${effect.size}/${large.length} tensors`);
  }
  const ranked = [...large].sort((a, b) => effect.get(a.name)! - effect.get(b.name)!).map((w) => w.name);
  const planOf = (k: number): Plan =>
    new Map([...allFloat16, ...ranked.slice(0, k).map((name) => [name, 'uint8'] as const)]);
  const sourceAnswers = await topOnes(source.files, images);
  const before = accuracyOf(sourceAnswers, images);
  /**
   * A plan passes when at most `maxDrop` of the calibration images change their answer:
   * that bounds the top-1 drop, and unlike the drop it does not let gains on some images
   * hide losses on others, which would not carry over to other images.
   */
  const tryPlan = async (k: number) => {
    const answers = await topOnes(await asFiles(source, build(source, planOf(k))), images);
    const changed = answers.filter((a, i) => a !== sourceAnswers[i]).length / images.length;
    onStep(
      `${k} tensors uint8: ${(100 * changed).toFixed(1)}% of answers changed, top-1 ${(100 * accuracyOf(answers, images)).toFixed(1)}%`,
    );
    return { ok: changed <= maxDrop, accuracy: accuracyOf(answers, images) };
  };
  let lo = 0;
  let loResult = await tryPlan(0);
  if (!loResult.ok) return { plan: planFor(source, 'float32'), before, after: before };
  let hi = ranked.length;
  const hiResult = await tryPlan(hi);
  if (hiResult.ok) return { plan: planOf(hi), before, after: hiResult.accuracy };
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const result = await tryPlan(mid);
    if (result.ok) [lo, loResult] = [mid, result];
    else hi = mid;
  }
  return { plan: planOf(lo), before, after: loResult.accuracy };
}

export function writeModel(source: Source, built: Built, outDir: string): Promise<unknown> {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'model.json'), JSON.stringify(built.modelJson));
  built.shards.forEach((shard, i) => writeFileSync(join(outDir, built.modelJson.weightsManifest[0]!.paths[i]!), shard));
  for (const name of readdirSync(source.dir)) {
    if (/^(labels\.json|metadata\.json|LICENSE.*)$/.test(name))
      copyFileSync(join(source.dir, name), join(outDir, name));
  }
  return writeModelManifest(outDir);
}

export async function loadImages(from: string, source: Source, limit?: number) {
  const list = from.endsWith('.csv')
    ? readManifest(from, source.files.labels)
    : readImageFolder(from, source.files.labels);
  return Promise.all(
    list
      .slice(0, limit ?? list.length)
      .map(async (i) => ({ pixels: await decodeImageFile(i.path, source.files.spec), truth: i.truth })),
  );
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      dtype: { type: 'string' },
      keep: { type: 'string', multiple: true, default: [] },
      auto: { type: 'boolean', default: false },
      calibration: { type: 'string' },
      'max-drop': { type: 'string', default: '0.01' },
      limit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const dtypes = ['uint8', 'uint16', 'float16', 'float32'];
  const fail = (why: string) => {
    console.error(`${HELP}\n\nerror: ${why}`);
    process.exit(2);
  };
  if (!values.model || !values.out) fail('give --model and --out');
  if (values.auto === !!values.dtype) fail('give exactly one of --dtype or --auto');
  if (values.dtype && !dtypes.includes(values.dtype)) fail(`--dtype must be one of ${dtypes.join(', ')}`);
  if (values.auto && !values.calibration) fail('--auto needs --calibration');
  const keep = values.keep.map((k): [StoredDtype, RegExp] => {
    const [dtype, pattern] = [k.slice(0, k.indexOf(':')), k.slice(k.indexOf(':') + 1)];
    if (!dtypes.includes(dtype) || !pattern)
      fail(`--keep takes <dtype>:<pattern>, e.g. float16:depthwise (got "${k}")`);
    return [dtype as StoredDtype, new RegExp(pattern)];
  });
  try {
    const source = await readSource(values.model!);
    const images = values.calibration
      ? await loadImages(values.calibration, source, values.limit ? Number(values.limit) : undefined)
      : [];
    let plan: Plan;
    let before = NaN;
    let after = NaN;
    if (values.auto) {
      const large = source.weights.filter((w) => w.dtype === 'float32' && w.values.length >= MIN_AUTO_VALUES).length;
      const bar = new SingleBar(
        { format: 'auto [{bar}] {value}/{total} {status}', stream: process.stderr },
        Presets.shades_classic,
      );
      bar.start(large + Math.ceil(Math.log2(large + 1)) + 2, 0, { status: 'measuring the source' });
      ({ plan, before, after } = await autoPlan(source, images, Number(values['max-drop']), (status) =>
        bar.increment({ status }),
      ));
      bar.stop();
    } else {
      plan = planFor(source, values.dtype as StoredDtype, keep);
      if (images.length) {
        before = await topOneAccuracy(source.files, images);
        after = await topOneAccuracy(await asFiles(source, build(source, plan)), images);
      }
    }
    // A pruned model stays stored sparse.
    const sparse = source.modelJson.weightsManifest.some((g) => g.weights.some((w) => (w as WeightEntry).sparse));
    const built = build(source, plan, { sparse });
    await writeModel(source, built, values.out!);
    const sourceBytes = storedBytes(source);
    const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–');
    console.log(`| | source | ${values.out} |
|---|---|---|
| tensors float32 / float16 / uint16 / uint8 / int32 | | ${built.counts.float32} / ${built.counts.float16} / ${built.counts.uint16} / ${built.counts.uint8} / ${built.counts.int32} |
| weight bytes | ${sourceBytes.toLocaleString('en')} | ${built.bytes.toLocaleString('en')} |
| top-1 on ${images.length} calibration images | ${pct(before)} | ${pct(after)} |`);
    if (built.overflow.length) console.error(`kept float32 (beyond ±65504): ${built.overflow.join(', ')}`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
