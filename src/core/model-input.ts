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
  // NCHW writes each channel into its own plane.
  const planar = spec.layout === 'nchw';
  const plane = outH * outW;
  const grey = spec.color === 'grayscale';
  const outChannels = grey ? 1 : 3;
  // Output channel c reads source channel source[c]: BGR reverses the order.
  const source = spec.color === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const out = quantized ? new Uint8Array(outH * outW * outChannels) : new Float32Array(outH * outW * outChannels);
  const heightScale = outH > 1 ? ((y2 - y1) * (height - 1)) / (outH - 1) : 0;
  const widthScale = outW > 1 ? ((x2 - x1) * (width - 1)) / (outW - 1) : 0;
  // Column positions are the same for every row.
  const left = new Int32Array(outW);
  const right = new Int32Array(outW);
  const xLerp = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const at = outW > 1 ? x1 * (width - 1) + x * widthScale : 0.5 * (x1 + x2) * (width - 1);
    left[x] = Math.max(0, Math.min(width - 1, Math.floor(at)));
    right[x] = Math.max(0, Math.min(width - 1, Math.ceil(at)));
    xLerp[x] = at - Math.floor(at);
  }
  let o = 0;
  let p = 0;
  for (let y = 0; y < outH; y++) {
    const at = outH > 1 ? y1 * (height - 1) + y * heightScale : 0.5 * (y1 + y2) * (height - 1);
    const top = Math.max(0, Math.min(height - 1, Math.floor(at))) * width;
    const bottom = Math.max(0, Math.min(height - 1, Math.ceil(at))) * width;
    const yLerp = at - Math.floor(at);
    for (let x = 0; x < outW; x++) {
      const tl = (top + left[x]!) * channels;
      const tr = (top + right[x]!) * channels;
      const bl = (bottom + left[x]!) * channels;
      const br = (bottom + right[x]!) * channels;
      const xl = xLerp[x]!;
      const sample = (c: number) => {
        const upper = data[tl + c]! + (data[tr + c]! - data[tl + c]!) * xl;
        const lower = data[bl + c]! + (data[br + c]! - data[bl + c]!) * xl;
        return upper + (lower - upper) * yLerp;
      };
      for (let c = 0; c < outChannels; c++) {
        // Luma is linear, so the luma of the interpolated colour equals the interpolated luma.
        const x = grey ? LUMA[0] * sample(0) + LUMA[1] * sample(1) + LUMA[2] * sample(2) : sample(source[c]!);
        const v = x * gains[c]! + offsets[c]!;
        // A Uint8Array store truncates and wraps: quantized values are rounded and clamped first.
        out[planar ? c * plane + p : o++] = quantized ? Math.max(0, Math.min(255, Math.round(v))) : v;
      }
      p++;
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
