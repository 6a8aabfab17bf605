import type uPlot from 'uplot';
import { describe, expect, it } from 'vitest';
import { chartData, MIN_LOSS_SPAN, xRange, yRange } from '../../src/lib/training-chart';

const u = undefined as unknown as uPlot;
const span = ([min, max]: uPlot.Range.MinMax) => max! - min!;

// Float32 read-backs of 1 and of a settled loss: uPlot's own range of such a series is ~1e-7 wide,
// and its tick loop then froze the page for seconds while training went on (the e2e train test timed out on it).
const flatAccuracy = [0.9999999403953552, 1.0000001192092896];
const flatLoss = [0.0012345, 0.0012346];

describe('the training charts’ axes', () => {
  it('show accuracy from 0 to 1, however flat the series', () => {
    expect(yRange(['accuracy', 'valAccuracy'])(u, flatAccuracy[0]!, flatAccuracy[1]!, 'y')).toEqual([0, 1]);
  });

  it('start loss at 0 and keep its axis at least MIN_LOSS_SPAN wide', () => {
    const range = yRange(['loss', 'valLoss']);
    expect(range(u, flatLoss[0]!, flatLoss[1]!, 'y')).toEqual([0, MIN_LOSS_SPAN]);
    expect(range(u, 0, 0, 'y')).toEqual([0, MIN_LOSS_SPAN]);
    expect(span(range(u, 2.3025851, 2.3025853, 'y'))).toBeGreaterThan(2.3);
    const [min, max] = range(u, 0.4, 2.3, 'y');
    expect(min).toBe(0);
    expect(max).toBeCloseTo(2.53, 6);
    expect(span(range(u, NaN, NaN, 'y'))).toBeGreaterThan(0);
  });

  it('keep the epoch axis at least one epoch wide', () => {
    expect(xRange(u, 1, 1, 'x')).toEqual([1, 2]);
    expect(xRange(u, 1, 20, 'x')).toEqual([1, 20]);
    expect(span(xRange(u, NaN, NaN, 'x'))).toBeGreaterThan(0);
  });

  it('plot a figure that is not a number as a gap', () => {
    const data = chartData(
      [
        { epoch: 1, loss: NaN, accuracy: 0.5, valLoss: Infinity, valAccuracy: 0.25 },
        { epoch: 2, loss: 0.7, accuracy: 0.75, valLoss: 0.9, valAccuracy: 0.5 },
      ],
      ['loss', 'valLoss'],
    );
    expect(data).toEqual([
      [1, 2],
      [null, 0.7],
      [null, 0.9],
    ]);
  });
});
