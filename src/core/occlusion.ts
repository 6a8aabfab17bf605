import { CancelledError } from './errors';
import type { ModelSpec } from './model-spec';
import type { Pixels } from './model-input';

/**
 * Occlusion sensitivity (Zeiler & Fergus, 2014): where the model looked is where hiding a patch
 * of the photo lowers the class's probability most. It needs only the model's answers, so it
 * works on every engine (tfjs, LiteRT, ONNX Runtime). Patches of two sizes slide over the part of
 * the photo the model sees (the central crop, or the whole photo when it is squashed), half a
 * patch at a time; each cell of the map is the mean drop of the patches that covered it.
 */

/** Patch sides as shares of the region the model sees; each slides by half its side (5×5 and 9×9 places). */
export const OCCLUSION_PATCHES = [1 / 3, 1 / 5] as const;
/** The map's cells per side. */
export const HEATMAP_CELLS = 20;
/** What a hidden patch is filled with: mid grey, the mean of most models' input range. */
const GREY = 128;

export interface Heatmap {
  method: 'occlusion';
  classIndex: number;
  rows: number;
  cols: number;
  /** Importance per cell, row by row, 0…1 (1: the largest drop); what raised the probability counts as 0. */
  values: Float32Array;
  /** The region the map covers, as shares of the photo's width and height from its top-left corner. */
  box: { left: number; top: number; width: number; height: number };
  /** The centre of the most important cell, as shares of the photo's width and height. */
  peak: { x: number; y: number };
  /** The class's probability on the whole photo. */
  probability: number;
  /** Model runs it took (the whole photo included). */
  runs: number;
}

/** The part of the photo the model sees, in pixels: the central square it crops, or all of it. */
export function seenRegion(
  width: number,
  height: number,
  spec: Pick<ModelSpec, 'fit' | 'centralCrop'>,
): { x: number; y: number; w: number; h: number } {
  if (spec.fit === 'squash') return { x: 0, y: 0, w: width, h: height };
  const side = spec.centralCrop * Math.min(width, height);
  return { x: (width - side) / 2, y: (height - side) / 2, w: side, h: side };
}

export interface OcclusionOptions {
  /** The class's probability on the whole photo, where the caller has it already (else one more run finds it). */
  base?: number;
  /** Checked between runs: true ends the work with a CancelledError. */
  cancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The occlusion map of class `classIndex` (its probability from `probability`, one model run per
 * call) for `pixels`, in the photo's own coordinates.
 */
export async function occlusionMap(
  pixels: Pixels,
  spec: Pick<ModelSpec, 'fit' | 'centralCrop'>,
  classIndex: number,
  probability: (pixels: Pixels) => Promise<number>,
  options: OcclusionOptions = {},
): Promise<Heatmap> {
  const { width, height, channels, data } = pixels;
  const region = seenRegion(width, height, spec);
  const places = OCCLUSION_PATCHES.map((share) => Math.round((1 - share) / (share / 2)) + 1);
  const total = 1 + places.reduce((sum, n) => sum + n * n, 0);
  const base = options.base ?? (await probability(pixels));
  const sums = new Float32Array(HEATMAP_CELLS * HEATMAP_CELLS);
  const counts = new Float32Array(HEATMAP_CELLS * HEATMAP_CELLS);
  const masked = new Uint8ClampedArray(data.length);
  let runs = 1;
  for (const [p, share] of OCCLUSION_PATCHES.entries()) {
    const n = places[p]!;
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < n; col++) {
        if (options.cancelled?.()) throw new CancelledError('the explanation was cancelled');
        // The patch, as shares of the region, then in pixels.
        const [u0, v0] = [(col * share) / 2, (row * share) / 2];
        const x0 = Math.round(region.x + u0 * region.w);
        const y0 = Math.round(region.y + v0 * region.h);
        const x1 = Math.round(region.x + (u0 + share) * region.w);
        const y1 = Math.round(region.y + (v0 + share) * region.h);
        masked.set(data);
        for (let y = Math.max(0, y0); y < Math.min(height, y1); y++)
          masked.fill(GREY, (y * width + Math.max(0, x0)) * channels, (y * width + Math.min(width, x1)) * channels);
        if (channels === 4)
          for (let y = Math.max(0, y0); y < Math.min(height, y1); y++)
            for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) masked[(y * width + x) * 4 + 3] = 255;
        const drop = base - (await probability({ data: masked, width, height, channels }));
        runs++;
        options.onProgress?.(runs, total);
        // Every map cell the patch covers hears its drop.
        const c0 = Math.floor(u0 * HEATMAP_CELLS);
        const r0 = Math.floor(v0 * HEATMAP_CELLS);
        const c1 = Math.min(HEATMAP_CELLS, Math.ceil((u0 + share) * HEATMAP_CELLS));
        const r1 = Math.min(HEATMAP_CELLS, Math.ceil((v0 + share) * HEATMAP_CELLS));
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            sums[r * HEATMAP_CELLS + c]! += drop;
            counts[r * HEATMAP_CELLS + c]! += 1;
          }
        }
      }
    }
  }
  const values = sums.map((sum, i) => Math.max(0, sum / Math.max(1, counts[i]!)));
  const top = values.reduce((a, b) => Math.max(a, b), 0);
  let peakCell = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i]! > values[peakCell]!) peakCell = i;
    if (top > 0) values[i]! /= top;
  }
  const box = { left: region.x / width, top: region.y / height, width: region.w / width, height: region.h / height };
  const peak = {
    x: box.left + (((peakCell % HEATMAP_CELLS) + 0.5) / HEATMAP_CELLS) * box.width,
    y: box.top + ((Math.floor(peakCell / HEATMAP_CELLS) + 0.5) / HEATMAP_CELLS) * box.height,
  };
  return {
    method: 'occlusion',
    classIndex,
    rows: HEATMAP_CELLS,
    cols: HEATMAP_CELLS,
    values,
    box,
    peak,
    probability: base,
    runs,
  };
}
