import { seededRandom } from './stats';

/**
 * One way of looking at a training image: the part of it that is drawn (fractions of its
 * width and height) and whether it is mirrored. Augmentation adds views of the training
 * images; the features of each view are computed like any image's.
 */
export interface ImageView {
  mirrored: boolean;
  crop: { x: number; y: number; width: number; height: number } | null;
}

export const WHOLE_IMAGE: ImageView = { mirrored: false, crop: null };

/** Crop jitter keeps between this share and all but 5% of each side. */
const MIN_CROP = 0.8;
const MAX_CROP = 0.95;

/**
 * The extra views of training image `index`: its mirror image and/or one crop of 80–95% of
 * each side at a random place. Seeded by the run's seed and the image's place, so a run
 * with the same seed and data sees the same crops (and finds their features cached).
 */
export function augmentedViews(
  augment: { flip: boolean; cropJitter: boolean },
  seed: number,
  index: number,
): ImageView[] {
  const views: ImageView[] = [];
  if (augment.flip) views.push({ mirrored: true, crop: null });
  if (augment.cropJitter) {
    const random = seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) | 0);
    const share = () => MIN_CROP + (MAX_CROP - MIN_CROP) * random();
    const [width, height] = [share(), share()];
    views.push({ mirrored: false, crop: { x: (1 - width) * random(), y: (1 - height) * random(), width, height } });
  }
  return views;
}

/** The views training computes features of: each image whole, and the augmented views of the training images only. */
export function trainingViews(
  count: number,
  train: readonly number[],
  options: { flip: boolean; cropJitter: boolean; seed: number },
): ImageView[][] {
  const inTraining = new Set(train);
  return Array.from({ length: count }, (_, i) => [
    WHOLE_IMAGE,
    ...(inTraining.has(i) ? augmentedViews(options, options.seed, i) : []),
  ]);
}

/** A short stable text for a view, part of its features' cache key. */
export function viewKey(view: ImageView): string {
  const crop = view.crop
    ? [view.crop.x, view.crop.y, view.crop.width, view.crop.height].map((f) => f.toFixed(4)).join(',')
    : 'whole';
  return `${view.mirrored ? 'mirrored' : 'upright'}:${crop}`;
}

/** The view's source rectangle in pixels of an image of this size (at least one pixel). */
export function viewRect(
  view: ImageView,
  width: number,
  height: number,
): { x: number; y: number; width: number; height: number } {
  if (!view.crop) return { x: 0, y: 0, width, height };
  const x = Math.round(view.crop.x * width);
  const y = Math.round(view.crop.y * height);
  return {
    x,
    y,
    width: Math.max(1, Math.min(width - x, Math.round(view.crop.width * width))),
    height: Math.max(1, Math.min(height - y, Math.round(view.crop.height * height))),
  };
}
