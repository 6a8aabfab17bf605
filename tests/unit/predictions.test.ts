import { describe, expect, it } from 'vitest';
import { averagePredictions, classProbabilities, topK, zeroTail } from '../../src/core/predictions';

const labels = ['a', 'b', 'c', 'd'];

describe('topK', () => {
  it('returns the k most probable classes in descending order with their labels', () => {
    const p = new Float32Array([0.1, 0.5, 0.15, 0.25]);
    expect(topK(p, labels, 3)).toEqual([
      { label: 'b', index: 1, probability: 0.5 },
      { label: 'd', index: 3, probability: 0.25 },
      { label: 'c', index: 2, probability: expect.closeTo(0.15, 6) },
    ]);
  });

  it('keeps the lower index first on ties and clamps k to the class count', () => {
    const p = new Float32Array([0.25, 0.25, 0.25, 0.25]);
    expect(topK(p, labels, 10).map((x) => x.index)).toEqual([0, 1, 2, 3]);
    expect(topK(p, labels, 0)).toHaveLength(1);
  });

  it('finds where the answers with no probability begin, so that the zeros are not listed by index', () => {
    // A uint8 model's output on LiteRT: one class takes (nearly) all, the rest are exact zeros.
    expect(zeroTail(topK(new Float32Array([0, 0, 0.996, 0.004]), labels, 4))).toBe(2);
    expect(zeroTail(topK(new Float32Array([0, 0, 1, 0]), labels, 4))).toBe(1);
    expect(zeroTail(topK(new Float32Array(4), labels, 3))).toBe(1);
    expect(zeroTail(topK(new Float32Array([0.1, 0.5, 0.15, 0.25]), labels, 4))).toBe(4);
  });
});

describe('classProbabilities', () => {
  it('passes softmax outputs through and drops a leading background class', () => {
    const out = new Float32Array([0.9, 0.05, 0.05]);
    expect(Array.from(classProbabilities(out, 2, 1, false))).toEqual([
      expect.closeTo(0.05, 6),
      expect.closeTo(0.05, 6),
    ]);
  });

  it('applies a numerically stable softmax to logits', () => {
    const probs = classProbabilities(new Float32Array([1000, 1000, 0]), 3, 0, true);
    expect(probs[0]).toBeCloseTo(0.5, 6);
    expect(probs[2]).toBeCloseTo(0, 6);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('refuses an output smaller than the label list', () => {
    expect(() => classProbabilities(new Float32Array(3), 5, 0, false)).toThrow(RangeError);
  });
});

describe('averagePredictions (live smoothing)', () => {
  const p = (index: number, probability: number) => ({ label: `c${index}`, index, probability });
  it('averages each class over the frames, counting a missing class as 0, best first', () => {
    const frames = [
      [p(1, 0.6), p(2, 0.4)],
      [p(2, 0.9), p(3, 0.1)],
    ];
    expect(averagePredictions(frames, 5)).toEqual([p(2, 0.65), p(1, 0.3), p(3, 0.05)]);
    expect(averagePredictions(frames, 1)).toEqual([p(2, 0.65)]);
  });
});
