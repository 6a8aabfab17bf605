import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { blankImage, type Pixels } from '../src/core/model-input';
import type { StoredDtype } from '../src/core/weight-encoding';
import {
  magnitudePrune,
  planSparsity,
  zeroedWeights,
  prunableLayers,
  rankedSteps,
  SCAN_LEVELS,
  searchPlan,
  uniformPlan,
  type LayerSensitivity,
  type PrunableLayer,
  type PrunePlan,
} from '../model/pruning';
import { loadModelDir } from './node-model';
import { msPerImage } from './timing';
import { modelBytes, type ModelBytes } from './model-size';
import {
  accuracyOf,
  asFiles,
  build,
  loadImages,
  probabilities,
  readSource,
  topOnes,
  writeModel,
  type Plan,
  type Source,
} from './quantize';

const HELP = `npm run prune -- --model <model> --out <dir> (--sparsity S | --auto --images <dir|csv>)
                   [--max-drop 0.015] [--images <dir|csv>] [--limit N] [--json report.json]

Magnitude pruning, layer by layer: each pruned layer's smallest weights become zero, and the model
is written in Glimpse's layout with those weights stored sparse (a bitmap and the weights kept), so
the download shrinks; the app and the tools decode it on load.

  --model      a folder in Glimpse's layout or its model.json, or any model the Models view imports
               that runs on tfjs (a TF.js or Teachable Machine export, a .tflite with labels, a .zip)
  --sparsity   prune this share (0–1) of every bulk layer's weights; the first convolution,
               depthwise kernels and the classifier stay whole
  --auto       scan how much each layer tolerates (every layer at ${SCAN_LEVELS.join(', ')}), then take
               the cheapest steps while top-1 on the even-numbered images of --images stays within
               --max-drop of the model's; reported on the odd-numbered ones, which the choice never saw
  --max-drop   for --auto, the top-1 drop allowed (a share: 0.015 is 1.5 points; default 0.015)
  --images     labelled images (class folders, <wnid>_<name> files or a CSV "path,label", as
               npm run eval takes them); with --sparsity, reports top-1 before and after
  --limit      use only the first N images
  --json       write the report as JSON too
tfjs has no sparse kernels: a pruned model downloads faster, and runs as fast as before.`;

/** Images the scan measures each (layer, level) on: enough to rank layers, few enough to try hundreds of variants. */
export const SCAN_IMAGES = 16;
const TIMED_IMAGES = 10;

/** The source with each planned layer's weights magnitude-pruned; the others stay the source's own objects, so every variant reuses their quantization. */
function pruned(source: Source, plan: PrunePlan): Source {
  return {
    ...source,
    weights: source.weights.map((w) =>
      plan.get(w.name) ? { ...w, values: magnitudePrune(w.values as Float32Array, plan.get(w.name)!) } : w,
    ),
  };
}

/** Each weight stored as the source stores it (a uint8 model stays uint8). */
function sourceDtypes(source: Source): Plan {
  return new Map(
    source.files.artifacts.weightSpecs!.map((s) => [s.name, (s.quantization?.dtype ?? 'float32') as StoredDtype]),
  );
}

/** The source pruned as `plan` says, as the engine's input (dense, straight from memory). */
export const filesOf = async (source: Source, plan: PrunePlan) =>
  asFiles(source, build(pruned(source, plan), sourceDtypes(source)));

/** Mean L1 distance between two sets of probability vectors. */
function moved(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  return a.reduce((sum, p, i) => sum + p.reduce((s, v, j) => s + Math.abs(v - b[i]![j]!), 0), 0) / a.length;
}

/** How far the answers move with each layer alone pruned at each scan level. */
export async function scan(
  source: Source,
  layers: readonly PrunableLayer[],
  images: readonly { pixels: Pixels }[],
  onStep: () => void,
): Promise<LayerSensitivity[]> {
  const reference = await probabilities(await filesOf(source, new Map()), images);
  const out: LayerSensitivity[] = [];
  for (const layer of layers) {
    const effects: number[] = [];
    for (const level of SCAN_LEVELS) {
      effects.push(
        moved(await probabilities(await filesOf(source, new Map([[layer.name, level]])), images), reference),
      );
      onStep();
    }
    out.push({ layer: layer.name, effects });
  }
  return out;
}

export interface PruneReport {
  model: string;
  out: string;
  mode: 'uniform' | 'auto';
  /** Share of the prunable weights (kernels and matrices) set to zero, and of all weights. */
  sparsity: { prunable: number; all: number };
  layers: { name: string; role: string; weights: number; sparsity: number; scan?: number[] }[];
  bytes: { before: ModelBytes; after: ModelBytes };
  top1?: {
    images: number;
    before: number;
    after: number;
    chosenOn?: { images: number; before: number; after: number };
  };
  msPerImage: { before: number; after: number; images: number; runtime: string };
}

export interface PruneOptions {
  model: string;
  out: string;
  /** Uniform pruning of the bulk layers at this share; undefined: --auto. */
  sparsity?: number;
  maxDrop: number;
  images?: string;
  limit?: number;
}

/** Prunes `options.model` into `options.out` and measures it; `log` hears the steps of --auto. */
export async function runPrune(
  options: PruneOptions,
  log: (line: string) => void = () => undefined,
): Promise<PruneReport> {
  const auto = options.sparsity === undefined;
  const source = await readSource(options.model, 'pruning');
  const layers = prunableLayers(source.weights);
  const images = options.images ? await loadImages(options.images, source, options.limit) : [];
  const chooseOn = images.filter((_, i) => i % 2 === 0);
  const heldOut = images.filter((_, i) => i % 2 === 1);
  let plan: PrunePlan;
  let sensitivities: LayerSensitivity[] = [];
  let chosen: { before: number; after: number } | undefined;
  if (auto) {
    if (chooseOn.length === 0) throw new Error('--auto needs labelled images to choose on');
    const bar = new SingleBar(
      { format: 'scan [{bar}] {value}/{total}', stream: process.stderr },
      Presets.shades_classic,
    );
    bar.start(layers.length * SCAN_LEVELS.length, 0);
    sensitivities = await scan(source, layers, chooseOn.slice(0, SCAN_IMAGES), () => bar.increment());
    bar.stop();
    const before = accuracyOf(await topOnes(source.files, chooseOn), chooseOn);
    const found = await searchPlan(rankedSteps(layers, sensitivities), before, options.maxDrop, async (p) => {
      const accuracy = accuracyOf(await topOnes(await filesOf(source, p), chooseOn), chooseOn);
      log(
        `${(100 * planSparsity(layers, p)).toFixed(1)}% pruned: top-1 ${(100 * accuracy).toFixed(1)}% (model ${(100 * before).toFixed(1)}%)`,
      );
      return accuracy;
    });
    plan = found.plan;
    chosen = { before, after: found.accuracy };
  } else plan = uniformPlan(layers, options.sparsity!);

  await writeModel(source, build(pruned(source, plan), sourceDtypes(source), { sparse: true }), options.out);
  // The written model, read back through the loader the app uses: what is measured is what ships.
  const written = await loadModelDir(options.out);
  const evaluated = auto ? heldOut : images;
  const top1 = evaluated.length
    ? {
        images: evaluated.length,
        before: accuracyOf(await topOnes(source.files, evaluated), evaluated),
        after: accuracyOf(await topOnes(written, evaluated), evaluated),
        ...(chosen ? { chosenOn: { images: chooseOn.length, ...chosen } } : {}),
      }
    : undefined;
  const timed = evaluated.length
    ? evaluated.slice(0, TIMED_IMAGES).map((i) => i.pixels)
    : [blankImage(source.files.spec)];
  const [msBefore, msAfter] = await msPerImage([
    { files: source.files, images: timed },
    { files: written, images: timed },
  ]);
  const total = source.weights.reduce((n, w) => n + w.values.length, 0);
  return {
    model: options.model,
    out: options.out,
    mode: auto ? 'auto' : 'uniform',
    sparsity: {
      prunable: planSparsity(layers, plan),
      all: zeroedWeights(layers, plan) / total,
    },
    layers: layers.map((l) => ({
      name: l.name,
      role: l.role,
      weights: l.count,
      sparsity: plan.get(l.name) ?? 0,
      ...(sensitivities.length ? { scan: sensitivities.find((s) => s.layer === l.name)!.effects } : {}),
    })),
    bytes: { before: modelBytes(source.dir), after: modelBytes(options.out) },
    ...(top1 ? { top1 } : {}),
    msPerImage: { before: msBefore!, after: msAfter!, images: timed.length, runtime: 'tfjs-wasm in Node' },
  };
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      sparsity: { type: 'string' },
      auto: { type: 'boolean', default: false },
      'max-drop': { type: 'string', default: '0.015' },
      images: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const fail = (why: string) => {
    console.error(`${HELP}\n\nerror: ${why}`);
    process.exit(2);
  };
  const sparsity = Number(values.sparsity);
  const maxDrop = Number(values['max-drop']);
  if (!values.model || !values.out) fail('give --model and --out');
  if (values.auto === (values.sparsity !== undefined)) fail('give exactly one of --sparsity or --auto');
  if (values.sparsity !== undefined && !(sparsity >= 0 && sparsity < 1))
    fail('--sparsity is a share from 0 to below 1');
  if (values.auto && !values.images) fail('--auto needs --images');
  if (!(maxDrop >= 0 && maxDrop < 1)) fail('--max-drop is a share from 0 to below 1 (0.015 is 1.5 points)');
  try {
    const report = await runPrune(
      {
        model: values.model!,
        out: values.out!,
        ...(values.auto ? {} : { sparsity }),
        maxDrop,
        ...(values.images ? { images: values.images } : {}),
        ...(values.limit ? { limit: Number(values.limit) } : {}),
      },
      (line) => console.error(`  ${line}`),
    );
    console.log(printed(report));
    if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}

export function printed(r: PruneReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const ratio = (a: number, b: number) => `${(b / a).toFixed(2)}×`;
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  const { before, after } = r.bytes;
  const lines = [
    `| | before | after | |`,
    `|---|---|---|---|`,
    `| weights pruned (of ${r.layers.length} prunable layers' / of all) | – | ${pct(r.sparsity.prunable)} / ${pct(r.sparsity.all)} | |`,
    `| download, raw | ${kb(before.raw)} | ${kb(after.raw)} | ${ratio(before.raw, after.raw)} |`,
    `| download, gzip | ${kb(before.gzip)} | ${kb(after.gzip)} | ${ratio(before.gzip, after.gzip)} |`,
    `| download, brotli | ${kb(before.brotli)} | ${kb(after.brotli)} | ${ratio(before.brotli, after.brotli)} |`,
  ];
  if (r.top1) {
    lines.push(
      `| top-1 on ${r.top1.images} ${r.mode === 'auto' ? 'held-out ' : ''}images | ${pct(r.top1.before)} | ${pct(r.top1.after)} | ${((r.top1.after - r.top1.before) * 100).toFixed(1)} points |`,
    );
    if (r.top1.chosenOn)
      lines.push(
        `| top-1 on the ${r.top1.chosenOn.images} images the plan was chosen on | ${pct(r.top1.chosenOn.before)} | ${pct(r.top1.chosenOn.after)} | |`,
      );
  }
  lines.push(
    `| ms per image (${r.msPerImage.runtime}, median) | ${r.msPerImage.before.toFixed(1)} | ${r.msPerImage.after.toFixed(1)} | ${ratio(r.msPerImage.before, r.msPerImage.after)} |`,
    '',
    'tfjs has no sparse kernels: the zeros are multiplied like any weight, so a pruned model is smaller to download, not faster to run.',
    '',
    `| layer | role | weights | pruned${r.layers[0]?.scan ? ` | scan: answers moved at ${SCAN_LEVELS.map(pct).join(' / ')}` : ''} |`,
    `|---|---|---|---${r.layers[0]?.scan ? '|---' : ''}|`,
    ...r.layers.map(
      (l) =>
        `| ${l.name} | ${l.role} | ${l.weights} | ${pct(l.sparsity)}${l.scan ? ` | ${l.scan.map((e) => e.toFixed(3)).join(' / ')}` : ''} |`,
    ),
  );
  return lines.join('\n');
}
