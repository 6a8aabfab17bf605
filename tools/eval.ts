import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { confusionCsv, evaluate, presentClasses, topConfusions, type EvaluationReport, type Sample } from '../src/core/metrics';
import { decodeImageFile } from './node-io';
import { loadModel, nodeEngine } from './node-model';
import { readImageFolder, readManifest } from './dataset';

const HELP = `npm run eval -- --model <model> (--manifest <csv> | --images <dir>) [--json <file>] [--confusion <csv>] [--limit N]

Evaluates a model on labelled images with the app's own import and preprocessing, in Node
(tfjs models on tfjs-backend-wasm, ONNX models on onnxruntime-node), and prints a markdown summary.

  --model      any model the app imports: a Glimpse model folder or its model.json, a Teachable
               Machine export, a TF.js model folder, a .tflite (labels beside it), an ONNX model
               or Hugging Face folder (config.json, preprocessor_config.json, onnx/*.onnx), or a .zip
  --manifest   CSV lines "path,label": label is a class index or label text; paths absolute
               or relative to the CSV
  --images     a folder per class (folder name = label text or index), or a flat folder of
               ImageNet samples named <wnid>_<name>.JPEG
  --json       write {n, top1, top5, macro, weighted, perClass, confusion, msPerImage}
  --confusion  write the confusion matrix as CSV
  --limit      evaluate only the first N images`;

export interface EvalOptions {
  model: string;
  manifest?: string;
  images?: string;
  limit?: number;
  progress?: boolean;
}

export async function runEval(options: EvalOptions): Promise<EvaluationReport> {
  const files = await loadModel(options.model);
  // Refused before any image is classified, not after.
  evaluate([], files.labels);
  const dataset = options.manifest ? readManifest(options.manifest, files.labels) : readImageFolder(options.images!, files.labels);
  const items = dataset.slice(0, options.limit ?? dataset.length);
  const engine = await nodeEngine(files);
  const bar = options.progress ? new SingleBar({ format: 'eval [{bar}] {value}/{total} images, {eta}s left', stream: process.stderr }, Presets.shades_classic) : null;
  bar?.start(items.length, 0);
  const samples: Sample[] = [];
  for (const item of items) {
    const start = performance.now();
    const pixels = await decodeImageFile(item.path, files.spec);
    const { predictions } = await engine.classify(pixels, 5);
    samples.push({ truth: item.truth, ranked: predictions.map((p) => p.index), ms: performance.now() - start });
    bar?.increment();
  }
  bar?.stop();
  engine.dispose();
  return evaluate(samples, files.labels);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function summary(report: EvaluationReport): string {
  const present = presentClasses(report);
  const worst = [...present].sort((a, b) => a.f1 - b.f1 || b.support - a.support).slice(0, 10);
  return [
    '| images | top-1 | top-5 | macro P / R / F1 | weighted P / R / F1 | ms per image |',
    '|---|---|---|---|---|---|',
    `| ${report.n} | ${pct(report.top1)} | ${pct(report.top5)} | ${pct(report.macro.precision)} / ${pct(report.macro.recall)} / ${pct(report.macro.f1)} | ${pct(report.weighted.precision)} / ${pct(report.weighted.recall)} / ${pct(report.weighted.f1)} | ${report.msPerImage.toFixed(1)} |`,
    '',
    `Classes with the lowest F1 (of ${present.length} present; --json has all):`,
    '',
    '| class | precision | recall | F1 | support |',
    '|---|---|---|---|---|',
    ...worst.map((c) => `| ${c.index} ${c.label} | ${pct(c.precision)} | ${pct(c.recall)} | ${pct(c.f1)} | ${c.support} |`),
    '',
    'Most confused pairs:',
    '',
    '| true | predicted | count |',
    '|---|---|---|',
    ...topConfusions(report).map((c) => `| ${c.truth} | ${c.predicted} | ${c.count} |`),
  ].join('\n');
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      manifest: { type: 'string' },
      images: { type: 'string' },
      json: { type: 'string' },
      confusion: { type: 'string' },
      limit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (!values.model || !!values.manifest === !!values.images) {
    console.error(`${HELP}\n\nerror: give --model and exactly one of --manifest or --images`);
    process.exit(2);
  }
  try {
    const report = await runEval({
      model: values.model,
      ...(values.manifest ? { manifest: values.manifest } : { images: values.images! }),
      ...(values.limit ? { limit: Number(values.limit) } : {}),
      progress: process.stderr.isTTY,
    });
    console.log(summary(report));
    if (values.json) writeFileSync(values.json, JSON.stringify(report));
    if (values.confusion) writeFileSync(values.confusion, confusionCsv(report));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
