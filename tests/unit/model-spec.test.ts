import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLabels, parseModelSpec } from '../../src/core/model-spec';
import { MODEL_DIR } from '../helpers/model';

const shipped = JSON.parse(readFileSync(resolve(MODEL_DIR, 'metadata.json'), 'utf8'));

describe('parseModelSpec', () => {
  it('reads the shipped model: 224x224, [-1, 1], 87.5% central crop, softmax output', () => {
    expect(parseModelSpec(shipped)).toEqual({
      name: 'mobilenet-v2-1.0-224-quant',
      inputSize: [224, 224],
      range: [-1, 1],
      fit: 'crop',
      centralCrop: 0.875,
      outputIsLogits: false,
      classOffset: 0,
      layout: 'nhwc',
      features: { node: 'MobilenetV2/Logits/AvgPool', size: 1280 },
    });
  });

  it('defaults to squashing the whole image when a model names no crop (the nsfwjs-style [0, 1] case)', () => {
    const spec = parseModelSpec({
      input: { shape: [1, 224, 224, 3], range: [0, 1] },
      output: { activation: 'softmax' },
    });
    expect(spec.centralCrop).toBe(1);
    expect(spec.fit).toBe('squash');
    expect(spec.range).toEqual([0, 1]);
    expect(parseModelSpec({ input: { shape: [1, 64, 64, 3], range: [0, 1], fit: 'crop' } })).toMatchObject({
      fit: 'crop',
      centralCrop: 1,
    });
    expect(() => parseModelSpec({ input: { shape: [1, 64, 64, 3], range: [0, 1], fit: 'stretch' } })).toThrow(
      /input.fit/,
    );
  });

  it('reads a crop described in words when there is no centralCrop field', () => {
    const resize = 'recommended: central square crop of 87.5% of the shorter side, bilinear resize to 224x224';
    const shared = { ...shipped, input: { ...shipped.input, centralCrop: undefined, resize } };
    expect(parseModelSpec(shared).centralCrop).toBe(0.875);
  });

  it.each([
    ['no input', {}, /input must be an object/],
    ['a two-channel input', { input: { shape: [1, 28, 28, 2], range: [0, 1] } }, /input.shape/],
    ['an unknown colour', { input: { shape: [1, 28, 28, 3], range: [0, 1], color: 'cmyk' } }, /input.color/],
    [
      'a grey colour on three channels',
      { input: { shape: [1, 28, 28, 3], range: [0, 1], color: 'grayscale' } },
      /input.color/,
    ],
    ['a range of equal ends', { input: { shape: [1, 8, 8, 3], range: [1, 1] } }, /input.range/],
    ['a crop over 1', { input: { shape: [1, 8, 8, 3], range: [0, 1], centralCrop: 1.5 } }, /centralCrop/],
    [
      'an unknown activation',
      { input: { shape: [1, 8, 8, 3], range: [0, 1] }, output: { activation: 'sigmoid' } },
      /activation/,
    ],
    ['a huge input', { input: { shape: [1, 100000, 8, 3], range: [0, 1] } }, /4096/],
  ])('refuses %s with a ModelFormatError', (_, json, message) => {
    expect(() => parseModelSpec(json)).toThrow(message);
    expect(() => parseModelSpec(json)).toThrow(expect.objectContaining({ name: 'ModelFormatError' }));
  });
});

describe('parseLabels', () => {
  it('reads the 1000 shipped ImageNet labels', () => {
    const labels = parseLabels(JSON.parse(readFileSync(resolve(MODEL_DIR, 'labels.json'), 'utf8')));
    expect(labels).toHaveLength(1000);
    expect(labels[88]).toBe('macaw');
  });

  it('refuses anything but a non-empty string array', () => {
    expect(() => parseLabels([])).toThrow(/labels.json/);
    expect(() => parseLabels(['a', 3])).toThrow(/labels.json/);
  });
});
