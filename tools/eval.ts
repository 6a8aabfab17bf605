import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import {
  confusionCsv,
  evaluate,
  presentClasses,
  topConfusions,
  type EvaluationReport,
  type Sample,
} from '../src/core/metrics';
import { decodeImageFile } from './node-io';
import { loadModel, modelFolder, nodeEngine } from './node-model';
import { calibration, fitOnHalf, untempered, type Calibration, type TemperatureFit } from '../src/core/calibration';
import { writeModelManifest } from '../build/model-manifest';
import { readImageFolder, readManifest } from './dataset';

const HELP = `npm run eval -- --model <model> (--manifest <csv> | --images <dir>) [--json <file>] [--confusion <csv>] [--limit N] [--calibrate]

Evaluates a model on labelled images with the app's own import and preprocessing, in Node
(tfjs models on tfjs-backend-wasm, ONNX models on onnxruntime-node), and prints a markdown summary.

  --model      any model the app imports: a Glimpse model folder or its model.json, a Teachable
               Machine export, a TF.js model folder, a .tflite (labels beside it), an ONNX model
               or Hugging Face folder (config.json, preprocessor_config.json, onnx/*.onnx), or a .zip
  --manifest   CSV lines "path,label": label is a class index or label text; paths absolute
               or relative to the CSV
  --images     a folder per class (folder name = label text or index), or a flat folder of
               ImageNet samples named <wnid>_<name>.JPEG
  --json       write {n, top1, top5, macro, weighted, perClass, confusion, msPerImage, calibration:
               {ece, bins: 15 × {lower, upper, count, confidence, accuracy}}, images: [{path, truth,
               predicted, confidence}]} (class indices; confidence = top-1 probability; input order)
  --calibrate  fit a temperature on every other image (NLL), report the ECE before and after it on
               the others, and keep it in the model's metadata.json (output.temperature; the
               manifest is written anew) where the model is a Glimpse folder and the fit lowered
               the ECE on the others
  --confusion  write the confusion matrix as CSV
  --limit      evaluate only the first N images`;

export interface EvalOptions {
  model: string;
  manifest?: string;
  images?: string;
  limit?: number;
  progress?: boolean;
  /** Fit a temperature on half the images and measure it on the other half. */
  calibrate?: boolean;
}

/** The report of `npm run eval`: the metrics, the calibration of the top-1 confidence, and every image's answer. */
export interface EvalReport extends EvaluationReport {
  calibration: Calibration;
  images: { path: string; truth: number; predicted: number; confidence: number }[];
  /** What `--calibrate` fitted, where asked. */
  fitted?: TemperatureFit;
}

export async function runEval(options: EvalOptions): Promise<EvalReport> {
  const files = await loadModel(options.model);
  // Refused before any image is classified, not after.
  evaluate([], files.labels);
  const dataset = options.manifest
    ? readManifest(options.manifest, files.labels)
    : readImageFolder(options.images!, files.labels);
  const items = dataset.slice(0, options.limit ?? dataset.length);
  const engine = await nodeEngine(files);
  const bar = options.progress
    ? new SingleBar(
        { format: 'eval [{bar}] {value}/{total} images, {eta}s left', stream: process.stderr },
        Presets.shades_classic,
      )
    : null;
  bar?.start(items.length, 0);
  const samples: Sample[] = [];
  const images: EvalReport['images'] = [];
  const raw: Float32Array[] = [];
  for (const item of items) {
    const start = performance.now();
    const pixels = await decodeImageFile(item.path, files.spec);
    // Every class's probability: a temperature fit needs the whole distribution.
    const { predictions } = await engine.classify(pixels, files.labels.length);
    samples.push({
      truth: item.truth,
      ranked: predictions.slice(0, 5).map((p) => p.index),
      ms: performance.now() - start,
    });
    images.push({
      path: item.path,
      truth: item.truth,
      predicted: predictions[0]!.index,
      confidence: predictions[0]!.probability,
    });
    raw.push(untempered(predictions, files.labels.length, engine.temperature));
    bar?.increment();
  }
  bar?.stop();
  const report: EvalReport = {
    ...evaluate(samples, files.labels),
    calibration: calibration(images.map((i) => ({ confidence: i.confidence, correct: i.predicted === i.truth }))),
    images,
  };
  const fitted = options.calibrate
    ? fitOnHalf(
        raw,
        items.map((item) => item.truth),
        engine.temperature,
      )
    : null;
  if (fitted) report.fitted = fitted;
  engine.dispose();
  return report;
}

/** Keeps a fitted temperature in a Glimpse model folder's metadata.json, with a fresh manifest. */
export async function keepTemperature(dir: string, temperature: number): Promise<void> {
  const path = join(dir, 'metadata.json');
  const metadata = JSON.parse(readFileSync(path, 'utf8')) as { output?: Record<string, unknown> };
  metadata.output = { ...metadata.output, temperature: Number(temperature.toFixed(4)) };
  writeFileSync(path, `${JSON.stringify(metadata, null, 2)}\n`);
  await writeModelManifest(dir);
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
    ...worst.map(
      (c) => `| ${c.index} ${c.label} | ${pct(c.precision)} | ${pct(c.recall)} | ${pct(c.f1)} | ${c.support} |`,
    ),
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
      calibrate: { type: 'boolean', default: false },
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
      calibrate: values.calibrate,
    });
    console.log(summary(report));
    console.log(`\nCalibration: ECE ${(100 * report.calibration.ece).toFixed(2)}% (15 bins of top-1 confidence).`);
    if (report.fitted) {
      const f = report.fitted;
      console.log(
        `Temperature ${f.temperature.toFixed(4)} fitted on ${f.fitOn} images; on the other ${f.heldOut}: ECE ${(100 * f.before).toFixed(2)}% → ${(100 * f.after).toFixed(2)}%.`,
      );
      const dir = modelFolder(values.model);
      if (!f.helps)
        console.log(
          'Not kept: it did not lower the calibration error on the held-out half, so the model is left as it was.',
        );
      else if (dir) {
        await keepTemperature(dir, f.temperature);
        console.log(`Kept in ${join(dir, 'metadata.json')} (output.temperature); manifest.json written anew.`);
      } else console.log('Not kept: the model is not a Glimpse folder (npm run build -- --model writes one).');
    } else if (values.calibrate)
      console.log('Not calibrated: a fit needs at least two images, one to fit on and one to check.');
    if (values.json) writeFileSync(values.json, JSON.stringify(report));
    if (values.confusion) writeFileSync(values.confusion, confusionCsv(report));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
