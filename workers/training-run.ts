/// <reference path="../src/core/build-constants.d.ts" />
import {
  BUILTIN_MODEL,
  TRAINED_SOURCE,
  type ModelInfo,
  type TrainEvent,
  type TrainSummary,
} from '../src/core/classifier-types';
import { BadRequestError, CancelledError, CorruptImageError, errorNameOf, ModelFormatError } from '../src/core/errors';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../src/core/train-options';
import type { HeadStorage } from '../model/trained-model';
import { sha256Hex } from '../src/core/model-manifest';
import { parseModelSpec } from '../src/core/model-spec';
import { Engine } from '../model/engine';
import { saveModel, setActiveModel } from './model-store';
import { bitmapToPixels } from './pixels';
import { FeatureCache } from './feature-cache';
import { checkedBytes, decodePhoto, stagedPhotos } from './photo-stage';
import { trainingViews, viewKey } from '../src/core/augmentation';

import { builtinUrl, currentInfo, engine, features, openModel, run, tfjs, watchFor } from './active-model';

/**
 * Training in the worker: the photos' features (cached by content), a run of the
 * training recipe (model/train-recipe.ts), cancelling it, and the model it made, to use or export.
 * Its state (the feature cache, the last result) lives here alone; the photos are staged in photo-stage.ts.
 */

/** The built-in model, which training extracts features with: the running engine when it is active. */
let baseForTraining: Engine | null = null;

/** Features by base model, image content (sha256) and view, so adding images does not recompute the others. */
const featureCache = new FeatureCache();

let trained: {
  files: Record<string, Uint8Array>;
  name: string;
  labels: string[];
  rebuild: (storage: HeadStorage) => Record<string, Uint8Array>;
} | null = null;

let stopTraining = false;

/** The engine training reads features from (featureSource), on tfjs's side of whatever backend runs now (ONNX Runtime or LiteRT cannot run a tfjs graph). */
async function featureEngine(): Promise<Engine> {
  if (engine && features === 'own') return engine;
  if (!baseForTraining) {
    const files = await openModel(BUILTIN_MODEL);
    baseForTraining = new Engine(files, [tfjs], watchFor(BUILTIN_MODEL));
    const backend = baseForTraining.featuresBackend(engine?.backend ?? 'wasm');
    await baseForTraining.prepare(backend);
    await baseForTraining.select(backend);
  }
  return baseForTraining;
}

/**
 * Trains a classifier on the user's labelled images: the built-in model's pooled features
 * (cached by image content, and on disk when `keepFeatures`), then a softmax head with a
 * seeded, stratified validation split, or (method `nearest`) a nearest-neighbour classifier
 * on the same features, checked by leave-one-out. Augmentation adds views (mirror, crop) of
 * the training images only: validation stays the user's own images. One photo is decoded
 * at a time (and the next while the model runs): features and their keys are all a run keeps.
 * The images are the staged ones (workers/photo-stage.ts); an image's `key` from an earlier run's summary
 * spares reading it again when its features are known.
 * The result waits for `useTrained` or `exportTrained`.
 */
export async function train(
  options: Partial<TrainOptions>,
  onProgress: (event: TrainEvent) => void,
  keepFeatures = false,
): Promise<TrainSummary> {
  stopTraining = false;
  const started = performance.now();
  const images = stagedPhotos();
  const [{ collectFeatures, stratifiedSplit }, { trainClassifier }] = await Promise.all([
    import('../model/training'),
    import('../model/train-recipe'),
  ]);
  const labels = [...new Set(images.map((i) => i.label))].sort();
  if (labels.length < 2) throw new BadRequestError('training needs images of at least two classes');
  const source = await featureEngine();
  const node = source.files.spec.features?.node;
  const base = source.files;
  if (base.format === 'onnx' || base.format === 'tflite')
    throw new ModelFormatError(
      `${base.spec.name} runs on ${base.format === 'onnx' ? 'ONNX Runtime' : 'LiteRT'} only: training a head needs a tfjs base model`,
    );
  if (!node) throw new ModelFormatError(`${source.files.spec.name} names no feature layer to train on`);
  const settings = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const nearest = settings.method === 'nearest';
  const labelled = images.map((image) => labels.indexOf(image.label));
  const imageSplit = nearest
    ? { train: labelled.map((_, i) => i), val: [] }
    : stratifiedSplit(labelled, settings.validation, settings.seed);
  const views = trainingViews(images.length, nearest ? [] : imageSplit.train, settings);
  const total = views.reduce((sum, v) => sum + v.length, 0);
  const cacheKey = `${source.files.spec.name}@${source.files.version}`;
  const keys: string[] = [];
  featureCache.startRun();
  let done = 0;
  let computed = 0;
  let ahead: { index: number; bytes: Promise<Uint8Array<ArrayBuffer>>; bitmap: Promise<ImageBitmap> } | null = null;
  const { features, truth, split } = await collectFeatures(labelled, imageSplit, views, async (i, imageViews) => {
    const image = images[i]!;
    // The next photo, read and checked while the model ran on this one (once: its bytes and decode are reused here).
    const early = ahead?.index === i ? ahead : null;
    if (ahead && !early)
      void ahead.bitmap.then(
        (b) => b.close(),
        () => undefined,
      );
    ahead = null;
    let hash = image.key;
    if (!hash) {
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await (early?.bytes ?? checkedBytes(image.data));
      } catch (error) {
        done += imageViews.length;
        onProgress({
          phase: 'refused',
          index: i,
          error: { name: errorNameOf(error), message: (error as Error).message },
        });
        return null;
      }
      hash = await sha256Hex(bytes);
    }
    keys[i] = hash;
    const vectors: Float32Array[] = [];
    let bitmap: Promise<ImageBitmap> | null = early?.bitmap ?? null;
    try {
      for (const view of imageViews) {
        if (stopTraining) throw new CancelledError('training was cancelled');
        const key = `${cacheKey}|${hash}|${viewKey(view)}`;
        let vector = await featureCache.get(key, keepFeatures);
        if (!vector) {
          bitmap ??= decodePhoto(image.data);
          // The next photo is decoded only once its bytes passed the checks, as every photo is.
          const next = images[i + 1]?.data;
          if (!ahead && next) {
            const bytes = checkedBytes(next);
            ahead = { index: i + 1, bytes, bitmap: bytes.then(() => decodePhoto(next)) };
            // Awaited later, or never (a photo whose features turn out known): either way not an unhandled rejection.
            bytes.catch(() => undefined);
            ahead.bitmap.catch(() => undefined);
          }
          vector = await source.features(bitmapToPixels(await bitmap, source.files.spec, view), node);
          computed++;
          await featureCache.set(key, vector, keepFeatures);
        }
        vectors.push(vector);
        onProgress({ phase: 'features', done: ++done, total });
      }
    } catch (error) {
      if (!(error instanceof CorruptImageError)) throw error;
      done += imageViews.length - vectors.length;
      onProgress({ phase: 'refused', index: i, error: { name: error.name, message: error.message } });
      return null;
    } finally {
      void bitmap?.then(
        (b) => b.close(),
        () => undefined,
      );
    }
    return vectors;
  }).finally(
    () =>
      ahead &&
      void ahead.bitmap.then(
        (b) => b.close(),
        () => undefined,
      ),
  );
  if (new Set(split.train.map((i) => truth[i])).size < 2)
    throw new BadRequestError('training needs images of at least two classes');
  const featuresMs = performance.now() - started;
  const common = { labels, features: { total, computed, ...featureCache.reused }, keys };
  const result = await trainClassifier(base, features, truth, split, images.length, labels, settings, {
    onEpoch: (figures) => onProgress({ phase: 'training', ...figures }),
    keepGoing: () => !stopTraining,
    reviewTraining: true,
  });
  trained = { files: result.files('float32'), name: result.name, labels: result.labels, rebuild: result.files };
  const { method, split: sizes, history, bestEpoch, report, name, review } = result;
  return {
    ...common,
    method,
    split: sizes,
    history,
    bestEpoch,
    valAccuracy: report.top1,
    report,
    name,
    review,
    timing: { featuresMs, totalMs: performance.now() - started },
  };
}

/** Forgets the training features kept in memory and on this device. */
export async function forgetFeatures(): Promise<void> {
  await featureCache.clear();
}

export function cancelTraining(): void {
  stopTraining = true;
}

/** Stores the trained model (base and head as one graph model) and makes it active. */
export async function useTrained(): Promise<ModelInfo> {
  if (!trained) throw new BadRequestError('nothing has been trained yet');
  const metadata = JSON.parse(new TextDecoder().decode(trained.files['metadata.json']));
  const prepared = {
    name: trained.name,
    format: 'graph-model' as const,
    source: TRAINED_SOURCE,
    spec: parseModelSpec(metadata),
    labels: trained.labels,
    preprocessing: 'as the built-in model',
    files: trained.files,
  };
  const stored = await saveModel(prepared, TRAINED_SOURCE);
  await run(await openModel(stored.id), stored.id);
  await setActiveModel(stored.id);
  return currentInfo();
}

/**
 * The trained model as a .zip: model.json, weights, labels, metadata (with the training
 * figures) and the base model's licence; the head's kernels stored as `storage` says.
 */
export async function exportTrained(storage: HeadStorage = 'float32'): Promise<Uint8Array> {
  if (!trained) throw new BadRequestError('nothing has been trained yet');
  const licence = await fetch(new URL('LICENSE', new URL(builtinUrl, self.location.href)))
    .then((r) => (r.ok ? r.arrayBuffer() : null))
    .catch(() => null);
  const { zipSync } = await import('fflate');
  return zipSync({ ...trained.rebuild(storage), ...(licence ? { LICENSE: new Uint8Array(licence) } : {}) });
}
