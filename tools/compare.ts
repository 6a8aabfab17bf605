import { writeFileSync } from 'node:fs';
import type { Pixels } from '../src/core/model-input';
import { parseArgs } from 'node:util';
import { readImageFolder, readManifest } from './dataset';
import { decodeImageFile } from './node-io';
import { loadModel, nodeEngine } from './node-model';
import { modelBytes, type ModelBytes } from './model-size';
import { msPerImage } from './timing';
import { accuracyPlot, agreement, top1 } from '../src/core/model-comparison';

const HELP = `npm run compare -- --models A,B,… --images <dir|csv> [--limit N] [--json report.json] [--svg plot.svg]

The variants of a model side by side (quantized, pruned, distilled, or any models): download bytes,
top-1 on the labelled images, how often each agrees with the first model's answer, and ms per image,
with a plot of accuracy against ms. Each model answers with its own labels; a photo whose class a
model does not have (a distilled model's "other") counts as wrong for it.

  --models   models in any format Glimpse runs, comma-separated; the first is the reference
  --images   labelled images (class folders, <wnid>_<name> files, or a CSV "path,label"),
             labelled by the first model's class names
  --svg      write the accuracy-against-ms plot as an SVG file`;

export interface CompareRow {
  model: string;
  name: string;
  classes: number;
  bytes: ModelBytes;
  top1: number;
  /** Share of the images on which its answer (by label) is the first model's. */
  agreement: number;
  msPerImage: number;
}

const TIMED_IMAGES = 10;

/** Each model's figures on the same labelled images, timed side by side in one run. */
export async function runCompare(
  models: readonly string[],
  images: string,
  limit?: number,
): Promise<{ images: number; rows: CompareRow[] }> {
  const loaded = await Promise.all(models.map((m) => loadModel(m)));
  const reference = loaded[0]!;
  const list = (
    images.endsWith('.csv') ? readManifest(images, reference.labels) : readImageFolder(images, reference.labels)
  ).slice(0, limit);
  const truth = list.map((i) => reference.labels[i.truth]!);
  const answers: string[][] = [];
  const timedPixels: Pixels[][] = [];
  for (const files of loaded) {
    const engine = await nodeEngine(files);
    const mine: string[] = [];
    const timed: Pixels[] = [];
    try {
      for (const [k, image] of list.entries()) {
        const pixels = await decodeImageFile(image.path, files.spec);
        // The first photos are timed afterwards, all models in turns: kept rather than decoded again.
        if (k < TIMED_IMAGES) timed.push(pixels);
        mine.push((await engine.classify(pixels, 1)).predictions[0]!.label);
      }
    } finally {
      engine.dispose();
    }
    answers.push(mine);
    timedPixels.push(timed);
  }
  const ms = await msPerImage(loaded.map((files, m) => ({ files, images: timedPixels[m]! })));
  const rows = loaded.map((files, m) => ({
    model: models[m]!,
    name: files.spec.name,
    classes: files.labels.length,
    bytes: modelBytes(models[m]!),
    top1: top1(answers[m]!, truth),
    agreement: agreement(answers[m]!, answers[0]!),
    msPerImage: ms[m]!,
  }));
  return { images: list.length, rows };
}

export function printed(rows: readonly CompareRow[], images: number): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const kb = (n: number) => `${Math.round(n / 1024).toLocaleString('en')} KB`;
  return [
    `| model | classes | download (gzip) | top-1 on ${images} images | agrees with the first | ms per image |`,
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.classes} | ${kb(r.bytes.raw)} (${kb(r.bytes.gzip)}) | ${pct(r.top1)} | ${pct(r.agreement)} | ${r.msPerImage.toFixed(1)} |`,
    ),
  ].join('\n');
}

/** Accuracy against ms per image, one labelled point per model. */
export const plot = (rows: readonly CompareRow[]): string =>
  accuracyPlot(rows.map((r) => ({ label: r.model, top1: r.top1, msPerImage: r.msPerImage })));

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      models: { type: 'string' },
      images: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'string' },
      svg: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const models = values.models?.split(',').filter(Boolean) ?? [];
  if (models.length < 1 || !values.images) {
    console.error(`${HELP}\n\nerror: give --models and --images`);
    process.exit(2);
  }
  try {
    const { images, rows } = await runCompare(models, values.images!, values.limit ? Number(values.limit) : undefined);
    console.log(printed(rows, images));
    if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
    if (values.svg) writeFileSync(values.svg, plot(rows));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
