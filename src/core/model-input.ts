import type { ModelSpec } from './model-spec';

type InputSpec = Pick<ModelSpec, 'inputSize' | 'range' | 'fit' | 'centralCrop' | 'normalize' | 'layout' | 'color'>;

/**
 * Largest size a decoded image is resampled to before it becomes a tensor. Bilinear
 * resizing aliases when it shrinks by more than 2x, so the platform's antialiased
 * resampler (the browser's decoder or canvas, sharp in Node) first brings big images down to
 * twice the model input; images already that small are used untouched.
 */
export function downscaleTarget(
  width: number,
  height: number,
  spec: Pick<ModelSpec, 'inputSize'>,
): { width: number; height: number } {
  const limit = 2 * Math.max(...spec.inputSize);
  const scale = limit / Math.min(width, height);
  if (scale >= 1) return { width, height };
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Channels of the model's input: 1 for a grey-scale model, else 3. */
export function inputChannels(spec: Pick<ModelSpec, 'color'>): 1 | 3 {
  return spec.color === 'grayscale' ? 1 : 3;
}

/** The input tensor's shape for one image, in the model's layout. */
export function inputShape(spec: Pick<ModelSpec, 'inputSize' | 'layout' | 'color'>): [number, number, number, number] {
  const [h, w] = spec.inputSize;
  const c = inputChannels(spec);
  return spec.layout === 'nchw' ? [1, c, h, w] : [1, h, w, c];
}

/** ITU-R BT.601 luma weights, as PIL's "L" mode and OpenCV's RGB2GRAY use. */
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * One channel's value between four neighbouring samples: tfjs's cropAndResize arithmetic, step
 * for step, so that every engine sees the same numbers.
 */
function bilinear(
  data: Uint8Array | Uint8ClampedArray,
  tl: number,
  tr: number,
  bl: number,
  br: number,
  xLerp: number,
  yLerp: number,
): number {
  const upper = data[tl]! + (data[tr]! - data[tl]!) * xLerp;
  const lower = data[bl]! + (data[br]! - data[bl]!) * xLerp;
  return upper + (lower - upper) * yLerp;
}

/**
 * `Math.max(0, Math.min(255, Math.round(v)))`, exactly, without the calls, which cost modelInput
 * about 1 ms a photo in Chromium. `(v + 0.5) | 0` alone rounds up a v just below a half whose sum
 * with 0.5 rounds to the integer above; the comparison takes those back.
 */
function byte(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 255) return 255;
  const n = (v + 0.5) | 0;
  return n - 0.5 > v ? n - 1 : n;
}

/** Crop box [y1, x1, y2, x2] in cropAndResize's normalised coordinates (pixel p ↦ p / (size-1)). */
export function cropBox(
  width: number,
  height: number,
  spec: Pick<ModelSpec, 'fit' | 'centralCrop'>,
): [number, number, number, number] {
  const norm = (p: number, size: number) => (size > 1 ? p / (size - 1) : 0);
  if (spec.fit === 'squash') return [0, 0, 1, 1];
  const side = spec.centralCrop * Math.min(width, height);
  const top = (height - side) / 2;
  const left = (width - side) / 2;
  return [norm(top, height), norm(left, width), norm(top + side - 1, height), norm(left + side - 1, width)];
}

/**
 * Pixels → the model's input values in plain JS, as tfjs's `cropAndResize` computes them
 * (central crop, bilinear, then the spec's range and per-channel mean/std), in the spec's
 * layout ([H, W, C] or [C, H, W]), in the spec's colour (RGB, BGR, or one grey channel): the
 * input of every engine, tfjs's (`toInputTensor`), LiteRT's and ONNX Runtime's alike, so that
 * all see the same numbers.
 */
export function modelInput(pixels: Pixels, spec: InputSpec): Float32Array<ArrayBuffer>;
/** …or straight into a uint8-quantized input (q = round(v / scale) + zero point, clamped), with no float copy in between. */
export function modelInput(
  pixels: Pixels,
  spec: InputSpec,
  quantized: { scale: number; zeroPoint: number },
): Uint8Array<ArrayBuffer>;
export function modelInput(
  pixels: Pixels,
  spec: InputSpec,
  quantized?: { scale: number; zeroPoint: number },
): Float32Array<ArrayBuffer> | Uint8Array<ArrayBuffer> {
  const { width, height, channels, data } = pixels;
  const [outH, outW] = spec.inputSize;
  const [y1, x1, y2, x2] = cropBox(width, height, spec);
  // v = x·gain + lo, and quantized q = v / scale + zero point: one affine map either way.
  const [lo, hi] = spec.range;
  // With a mean and std each channel has its own map: ((x·gain + lo) − mean) / std.
  const mean = spec.normalize?.mean ?? [0, 0, 0];
  const std = spec.normalize?.std ?? [1, 1, 1];
  const gains = [0, 1, 2].map((c) => (quantized ? (hi - lo) / 255 / quantized.scale : (hi - lo) / 255) / std[c]!);
  const offsets = [0, 1, 2].map((c) =>
    quantized ? (lo - mean[c]!) / std[c]! / quantized.scale + quantized.zeroPoint : (lo - mean[c]!) / std[c]!,
  );
  const planar = spec.layout === 'nchw';
  const plane = outH * outW;
  const grey = spec.color === 'grayscale';
  const outChannels = grey ? 1 : 3;
  // Output channel c reads source channel [s0, s1, s2][c]: BGR reverses the order.
  const [s0, s1, s2] = spec.color === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const [g0, g1, g2] = gains as [number, number, number];
  const [f0, f1, f2] = offsets as [number, number, number];
  // NCHW writes each channel into its own plane, NHWC one pixel's channels side by side.
  const [c1, c2, step] = planar ? [plane, 2 * plane, 1] : [1, 2, outChannels];
  const out = quantized ? new Uint8Array(outH * outW * outChannels) : new Float32Array(outH * outW * outChannels);
  const heightScale = outH > 1 ? ((y2 - y1) * (height - 1)) / (outH - 1) : 0;
  const widthScale = outW > 1 ? ((x2 - x1) * (width - 1)) / (outW - 1) : 0;
  // Column positions (as offsets into a row) are the same for every row.
  const left = new Int32Array(outW);
  const right = new Int32Array(outW);
  const xLerp = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const at = outW > 1 ? x1 * (width - 1) + x * widthScale : 0.5 * (x1 + x2) * (width - 1);
    left[x] = Math.max(0, Math.min(width - 1, Math.floor(at))) * channels;
    right[x] = Math.max(0, Math.min(width - 1, Math.ceil(at))) * channels;
    xLerp[x] = at - Math.floor(at);
  }
  // Written out per case (grey or colour, bytes or floats), with no closure or loop per channel:
  // every photo passes here (a 448×336 photo into 224×224×3 bytes: 4.0–5.2 → 1.6–2.2 ms in Chromium).
  let p = 0;
  for (let y = 0; y < outH; y++) {
    const at = outH > 1 ? y1 * (height - 1) + y * heightScale : 0.5 * (y1 + y2) * (height - 1);
    const top = Math.max(0, Math.min(height - 1, Math.floor(at))) * width * channels;
    const bottom = Math.max(0, Math.min(height - 1, Math.ceil(at))) * width * channels;
    const yl = at - Math.floor(at);
    for (let x = 0; x < outW; x++, p += step) {
      const tl = top + left[x]!;
      const tr = top + right[x]!;
      const bl = bottom + left[x]!;
      const br = bottom + right[x]!;
      const xl = xLerp[x]!;
      if (grey) {
        // Luma is linear, so the luma of the interpolated colour equals the interpolated luma.
        const luma =
          LUMA[0] * bilinear(data, tl, tr, bl, br, xl, yl) +
          LUMA[1] * bilinear(data, tl + 1, tr + 1, bl + 1, br + 1, xl, yl) +
          LUMA[2] * bilinear(data, tl + 2, tr + 2, bl + 2, br + 2, xl, yl);
        const v = luma * g0 + f0;
        out[p] = quantized ? byte(v) : v;
        continue;
      }
      const v0 = bilinear(data, tl + s0, tr + s0, bl + s0, br + s0, xl, yl) * g0 + f0;
      const v1 = bilinear(data, tl + s1, tr + s1, bl + s1, br + s1, xl, yl) * g1 + f1;
      const v2 = bilinear(data, tl + s2, tr + s2, bl + s2, br + s2, xl, yl) * g2 + f2;
      if (quantized) {
        // A Uint8Array store truncates and wraps: quantized values are rounded and clamped first.
        out[p] = byte(v0);
        out[p + c1] = byte(v1);
        out[p + c2] = byte(v2);
      } else {
        out[p] = v0;
        out[p + c1] = v1;
        out[p + c2] = v2;
      }
    }
  }
  return out;
}

/** Decoded pixels, row-major, 3 (RGB) or 4 (RGBA, alpha already flattened) channels per pixel. */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** A black image of the model's input size, RGBA: what warm-up and timing runs classify. */
export function blankImage(spec: Pick<ModelSpec, 'inputSize'>): Pixels {
  const [height, width] = spec.inputSize;
  return { data: new Uint8ClampedArray(height * width * 4), width, height, channels: 4 };
}
