/** Preprocessing presets for a model whose files do not say how to prepare images (a bare .onnx). */
export const ONNX_PRESETS = {
  imagenet: {
    label: 'ImageNet (PyTorch / timm)',
    range: [0, 1],
    normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  },
  minus1to1: { label: '[-1, 1]', range: [-1, 1], normalize: null },
  zero1: { label: '[0, 1]', range: [0, 1], normalize: null },
  raw: { label: '0–255', range: [0, 255], normalize: null },
} as const;

export type OnnxPreset = keyof typeof ONNX_PRESETS;

export function isOnnxPreset(x: unknown): x is OnnxPreset {
  return typeof x === 'string' && Object.hasOwn(ONNX_PRESETS, x);
}
