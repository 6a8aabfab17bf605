import { ModelFormatError } from './errors';
import { checkOutputCount, type ModelSpec } from './model-spec';
import type { Pixels } from './model-input';
import { seededRandom } from './stats';

/**
 * The import trial: before a model is stored, it runs on images that look like use, not only
 * on a blank one (a model can behave on black and loop, fill memory or answer NaN on a photo),
 * each run under the watchdog's budget, and its answers must be class scores: one number per
 * label, finite, and not the same whatever the image.
 */

type Rgb = [number, number, number];

function image(height: number, width: number, colour: (x: number, y: number) => Rgb): Pixels {
  const data = new Uint8ClampedArray(height * width * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = colour(x / width, y / height);
      const at = (y * width + x) * 4;
      data[at] = r;
      data[at + 1] = g;
      data[at + 2] = b;
      data[at + 3] = 255;
    }
  }
  return { data, width, height, channels: 4 };
}

/** A photo-like scene: sky over ground with a round object in front, lit unevenly, with sensor noise. */
function scene(height: number, width: number, seed: number, sky: Rgb, ground: Rgb, object: Rgb): Pixels {
  const rand = seededRandom(seed);
  const horizon = 0.45 + 0.1 * rand();
  const [cx, cy, radius] = [0.3 + 0.4 * rand(), 0.45 + 0.2 * rand(), 0.15 + 0.1 * rand()];
  return image(height, width, (x, y) => {
    const base = Math.hypot(x - cx, y - cy) < radius ? object : y < horizon ? sky : ground;
    const light = 0.75 + 0.35 * (1 - y) + 0.1 * Math.sin(6 * x);
    return base.map((v) => v * light + 24 * (rand() - 0.5)) as Rgb;
  });
}

/** The trial's images at the model's input size: blank first (as every earlier trial ran), then white, two scenes, noise and a checkerboard. */
export function probeImages(spec: Pick<ModelSpec, 'inputSize'>): Pixels[] {
  const [height, width] = spec.inputSize;
  const noise = seededRandom(33);
  return [
    image(height, width, () => [0, 0, 0]),
    image(height, width, () => [255, 255, 255]),
    scene(height, width, 1, [120, 170, 230], [60, 120, 45], [230, 40, 30]),
    scene(height, width, 2, [235, 200, 160], [150, 130, 110], [40, 60, 160]),
    image(height, width, () => [255 * noise(), 255 * noise(), 255 * noise()]),
    image(height, width, (x, y) => ((Math.floor(x * 8) + Math.floor(y * 8)) % 2 ? [255, 255, 255] : [0, 0, 0])),
  ];
}

/** Refuses a trial's outputs that are not class scores for `labels` classes: wrong length, NaN or infinite, or the same for every image. */
export function checkTrialOutputs(outputs: readonly Float32Array[], labels: number, classOffset = 0): void {
  for (const output of outputs) {
    checkOutputCount(output.length, labels, classOffset);
    if (!output.every(Number.isFinite)) {
      throw new ModelFormatError(
        'the model answers with numbers that are not finite (NaN or infinity) on a test image: its preprocessing (mean, std, scale) or its weights are broken',
      );
    }
  }
  const [first, ...others] = outputs;
  if (first && others.length > 0 && others.every((output) => output.every((value, i) => value === first[i]))) {
    throw new ModelFormatError(
      `the model gives the same scores for each of ${outputs.length} different test images: it does not look at the image`,
    );
  }
}

/** Runs the trial's images one by one through `run`, checks the answers, and returns them. */
export async function trialModel(
  run: (pixels: Pixels) => Promise<Float32Array>,
  spec: Pick<ModelSpec, 'inputSize'>,
  labels: number,
  classOffset = 0,
): Promise<Float32Array[]> {
  const outputs: Float32Array[] = [];
  for (const probe of probeImages(spec)) outputs.push(await run(probe));
  checkTrialOutputs(outputs, labels, classOffset);
  return outputs;
}

/** How far a converted copy's answers lie from its file's own runtime on the trial's images. */
export interface RuntimeCheck {
  /** The runtime the file was checked against. */
  runtime: string;
  probes: number;
  /** The largest difference of any class's probability on any probe image. */
  largest: number;
  /** Whether that is within rounding (RUNTIME_TOLERANCE): the converted copy may answer for the file. */
  agreed: boolean;
}

/**
 * The largest probability difference a converted copy may show against its file's own runtime: the
 * rounding between a uint8 graph computed in integers (LiteRT) and in floats (tfjs), measured on the
 * shared TFLite models (largest 0.114; docs/MODEL-FORMATS.md), with room above it. A converted graph that differs by
 * more computes something else.
 */
export const RUNTIME_TOLERANCE = 0.25;

/** Compares two runtimes' class probabilities for the same probe images. */
export function compareRuntimes(
  runtime: string,
  converted: readonly Float32Array[],
  original: readonly Float32Array[],
): RuntimeCheck {
  let largest = 0;
  converted.forEach((a, i) => {
    const b = original[i]!;
    const n = Math.max(a.length, b.length);
    // A class one runtime lacks, or a number that is not one, is as far apart as can be.
    for (let c = 0; c < n; c++) {
      const gap = Math.abs((a[c] ?? NaN) - (b[c] ?? NaN));
      largest = Math.max(largest, Number.isNaN(gap) ? Infinity : gap);
    }
  });
  return { runtime, probes: converted.length, largest, agreed: largest <= RUNTIME_TOLERANCE };
}
