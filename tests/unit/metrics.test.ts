import { describe, expect, it } from 'vitest';
import { confusionCsv, evaluate, MAX_EVALUATED_CLASSES, topConfusions } from '../../src/core/metrics';

const labels = ['cat', 'dog', 'bird', 'fish'];
const s = (truth: number, ...ranked: number[]) => ({ truth, ranked, ms: 10 });

describe('evaluate', () => {
  // truth→pred: cat→cat, cat→dog, dog→dog, dog→dog, bird→cat; fish never occurs or is predicted.
  const report = evaluate([s(0, 0, 1), s(0, 1, 0), s(1, 1), s(1, 1, 2), s(2, 0, 3, 1, 2)], labels);

  it('counts top-1 and top-5', () => {
    expect(report.n).toBe(5);
    expect(report.top1).toBeCloseTo(3 / 5);
    expect(report.top5).toBeCloseTo(5 / 5);
    expect(report.msPerImage).toBe(10);
  });

  it('computes per-class precision, recall, F1 and support by hand', () => {
    const [cat, dog, bird, fish] = report.perClass;
    // cat: tp 1, predicted 2 (cat, bird→cat), support 2
    expect(cat).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    // dog: tp 2, predicted 3, support 2 → P 2/3, R 1, F1 0.8
    expect(dog!.precision).toBeCloseTo(2 / 3);
    expect(dog!.recall).toBe(1);
    expect(dog!.f1).toBeCloseTo(0.8);
    // bird: never predicted → precision 0, recall 0, F1 0
    expect(bird).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 });
    // fish: empty class → all zero, support 0
    expect(fish).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('averages over present classes (macro) and by support (weighted)', () => {
    expect(report.macro.precision).toBeCloseTo((0.5 + 2 / 3 + 0) / 3);
    expect(report.macro.recall).toBeCloseTo((0.5 + 1 + 0) / 3);
    expect(report.macro.f1).toBeCloseTo((0.5 + 0.8 + 0) / 3);
    expect(report.weighted.recall).toBeCloseTo((0.5 * 2 + 1 * 2 + 0) / 5);
    expect(report.weighted.f1).toBeCloseTo((0.5 * 2 + 0.8 * 2) / 5);
  });

  it('builds the confusion matrix with truth in rows', () => {
    expect(report.confusion).toEqual([
      [1, 1, 0, 0],
      [0, 2, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(confusionCsv(report).split('\n')[0]).toBe('truth \\ predicted,cat,dog,bird,fish');
    expect(topConfusions(report)).toEqual([
      { truth: 'cat', predicted: 'dog', count: 1 },
      { truth: 'bird', predicted: 'cat', count: 1 },
    ]);
  });

  it('handles an empty run and refuses unknown classes', () => {
    expect(evaluate([], labels)).toMatchObject({ n: 0, top1: 0, top5: 0 });
    expect(() => evaluate([s(9, 0)], labels)).toThrow(RangeError);
  });
});

describe('how many classes a report covers', () => {
  it('refuses a model whose classes × classes confusion matrix would not fit, before counting anything', () => {
    const labels = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);
    expect(evaluate([{ truth: 0, ranked: [0], ms: 1 }], labels(MAX_EVALUATED_CLASSES)).confusion).toHaveLength(
      MAX_EVALUATED_CLASSES,
    );
    const started = performance.now();
    expect(() => evaluate([{ truth: 0, ranked: [0], ms: 1 }], labels(45_000))).toThrow(
      /a model of 45000 classes cannot be evaluated/,
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
