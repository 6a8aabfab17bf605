import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { trainingViews } from '../src/core/augmentation';
import { isImageFileName } from '../src/core/image-files';
import { laterDuplicates, sha256 } from '../src/core/duplicates';
import { collectFeatures, DEFAULT_TRAIN_OPTIONS, stratifiedSplit, type TrainOptions } from '../model/training';
import { trainClassifier } from '../model/train-recipe';
import { writeModelManifest } from '../build/model-manifest';
import { decodeImageFile } from './node-io';
import { loadModelDir, nodeEngine, tfjsOnly } from './node-model';
import { NONE_OF_THESE } from '../src/core/nearest-neighbour';

const defaults = DEFAULT_TRAIN_OPTIONS;
const HELP = `npm run train -- --images <dir> --out <dir> [--epochs ${defaults.epochs}] [--lr ${defaults.learningRate}] [--batch ${defaults.batchSize}] [--val ${defaults.validation}] [--seed ${defaults.seed}] [--hidden ${defaults.hidden}] [--flip] [--crop-jitter] [--nearest] [--base public/model]

Trains a classifier on a folder with one sub-folder of images per class, as the app's Train
view does: the base model's pooled features, then a softmax head (Adam, cross-entropy, early
stopping on validation loss), with the same seeded, stratified validation split; --flip and
--crop-jitter add mirror images and random crops of the training images, as the view's options do.
--nearest makes a few-shot nearest-neighbour classifier instead (cosine on the same features, checked
by leave-one-out, with a "none of these" class), as the view's Nearest neighbour method does. Writes one
tfjs graph model (model.json, weights.bin, labels.json, metadata.json, manifest.json, the base
model's LICENSE) that npm run build -- --model <out> deploys and the Models view imports.`;

export interface TrainCliOptions extends TrainOptions {
  images: string;
  out: string;
  base: string;
}

export async function runTraining(
  o: TrainCliOptions,
  log: (line: string) => void = console.log,
): Promise<{ valAccuracy: number }> {
  const classes = readdirSync(o.images)
    .filter((d) => statSync(join(o.images, d)).isDirectory())
    .sort();
  if (classes.length < 2) throw new Error(`${o.images} needs a sub-folder per class, at least two`);
  const listed = classes.flatMap((label, c) =>
    readdirSync(join(o.images, label))
      .filter(isImageFileName)
      .sort()
      .map((f) => ({ path: join(o.images, label, f), truth: c })),
  );
  // As the Train view does: an exact copy is left out, so that it cannot sit on both sides of the split.
  const copies = await laterDuplicates(
    listed.map((i) => statSync(i.path).size),
    (i) => sha256(readFileSync(listed[i]!.path)),
  );
  const items = listed.filter((_, i) => !copies.has(i));
  if (copies.size > 0)
    log(
      `${copies.size} exact duplicate ${copies.size === 1 ? 'image' : 'images'} left out (the same content as one listed before)`,
    );
  const base = tfjsOnly(await loadModelDir(resolve(o.base)), 'training a head');
  const node = base.spec.features?.node;
  if (!node) throw new Error(`${o.base} names no feature layer (metadata.json "features")`);
  const engine = await nodeEngine(base);
  const labelled = items.map((i) => i.truth);
  const nearest = o.method === 'nearest';
  const imageSplit = nearest
    ? { train: labelled.map((_, i) => i), val: [] }
    : stratifiedSplit(labelled, o.validation, o.seed);
  const started = performance.now();
  // The same views and the same training set as the Train view.
  const { features, truth, split } = await collectFeatures(
    labelled,
    imageSplit,
    trainingViews(items.length, nearest ? [] : imageSplit.train, o),
    async (i, views) => {
      const vectors: Float32Array[] = [];
      for (const view of views)
        vectors.push(await engine.features(await decodeImageFile(items[i]!.path, base.spec, view), node));
      return vectors;
    },
  );
  engine.dispose();
  const featureSeconds = (performance.now() - started) / 1000;
  log(
    `${items.length} images in ${classes.length} classes (${classes.map((c, i) => `${c}: ${items.filter((x) => x.truth === i).length}`).join(', ')}); ${features.length} feature vectors at ${(features.length / featureSeconds).toFixed(1)} images/s`,
  );
  if (!nearest) {
    // The head trains on the plain CPU backend, which has every gradient kernel.
    await tf.setBackend('cpu');
    log(
      `split (seed ${o.seed}): ${split.train.length} to train${features.length > items.length ? ' (with augmented views)' : ''}, ${split.val.length} to validate`,
    );
  }
  const trainingStarted = performance.now();
  const result = await trainClassifier(base, features, truth, split, items.length, classes, o, {
    onEpoch: (e) =>
      log(
        `epoch ${String(e.epoch).padStart(3)}  loss ${e.loss.toFixed(4)}  accuracy ${e.accuracy.toFixed(3)}  val loss ${e.valLoss.toFixed(4)}  val accuracy ${e.valAccuracy.toFixed(3)}`,
      ),
  });
  const { report } = result;
  if (nearest) {
    log(
      `nearest neighbour on ${truth.length} photos: leave-one-out accuracy ${report.top1}; "${NONE_OF_THESE}" below cosine similarity ${result.threshold!.toFixed(3)}`,
    );
  } else {
    log(
      `\n${result.history.length} epochs in ${(performance.now() - trainingStarted).toFixed(0)} ms; best epoch ${result.bestEpoch}; validation accuracy ${report.top1}\n\n| class | precision | recall | F1 | support |\n|---|---|---|---|---|`,
    );
    for (const c of report.perClass)
      log(`| ${c.label} | ${c.precision.toFixed(3)} | ${c.recall.toFixed(3)} | ${c.f1.toFixed(3)} | ${c.support} |`);
    if (result.temperature)
      log(`temperature ${result.temperature.toFixed(4)} (fitted on the validation split; kept in metadata.json)`);
  }
  await writeModel(o, result.files());
  log(`\nwrote ${o.out}`);
  return { valAccuracy: report.top1 };
}

async function writeModel(o: TrainCliOptions, files: Record<string, Uint8Array>): Promise<void> {
  mkdirSync(o.out, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(o.out, name), bytes);
  if (existsSync(join(o.base, 'LICENSE'))) copyFileSync(join(o.base, 'LICENSE'), join(o.out, 'LICENSE'));
  await writeModelManifest(o.out);
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      images: { type: 'string' },
      out: { type: 'string' },
      base: { type: 'string', default: 'public/model' },
      epochs: { type: 'string' },
      lr: { type: 'string' },
      batch: { type: 'string' },
      val: { type: 'string' },
      seed: { type: 'string' },
      hidden: { type: 'string' },
      flip: { type: 'boolean', default: false },
      'crop-jitter': { type: 'boolean', default: false },
      nearest: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (!values.images || !values.out) {
    console.error(`${HELP}\n\nerror: give --images and --out`);
    process.exit(2);
  }
  const number = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
  try {
    await runTraining({
      images: values.images,
      out: values.out,
      base: values.base,
      epochs: number(values.epochs, DEFAULT_TRAIN_OPTIONS.epochs),
      learningRate: number(values.lr, DEFAULT_TRAIN_OPTIONS.learningRate),
      batchSize: number(values.batch, DEFAULT_TRAIN_OPTIONS.batchSize),
      validation: number(values.val, DEFAULT_TRAIN_OPTIONS.validation),
      seed: number(values.seed, DEFAULT_TRAIN_OPTIONS.seed),
      hidden: number(values.hidden, DEFAULT_TRAIN_OPTIONS.hidden),
      patience: DEFAULT_TRAIN_OPTIONS.patience,
      flip: values.flip,
      cropJitter: values['crop-jitter'],
      method: values.nearest ? 'nearest' : 'head',
    });
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
