import type uPlot from 'uplot';
import type { EpochFigures } from '../core/train-options';

export type ChartKeys = ['loss', 'valLoss'] | ['accuracy', 'valAccuracy'];

/**
 * The smallest span a loss axis gets. uPlot's auto range of a series that is flat up to float
 * noise (an accuracy of 1 read back as 0.99999994, a loss that has settled) is a span of ~1e-7,
 * and its axis-tick loop then runs for seconds or never ends (uPlot#1084, closed as the
 * caller's to avoid), freezing the page while training goes on.
 */
export const MIN_LOSS_SPAN = 0.01;

/** Loss and accuracy are never negative, so both axes start at 0; accuracy ends at 1, loss just above its largest value. */
export function yRange(keys: ChartKeys): uPlot.Range.Function {
  return keys[0] === 'accuracy'
    ? () => [0, 1]
    : (_u, _min, max) => [0, Number.isFinite(max) ? Math.max(max * 1.1, MIN_LOSS_SPAN) : 1];
}

/** Epochs from the first on, at least one wide, for the same reason. */
export const xRange: uPlot.Range.Function = (_u, min, max) =>
  Number.isFinite(min) && Number.isFinite(max) ? [min, Math.max(max, min + 1)] : [1, 2];

/** The chart's series; a figure that is not a number (a diverged loss) is a gap, not a point uPlot cannot place. */
export function chartData(history: readonly EpochFigures[], keys: ChartKeys): uPlot.AlignedData {
  const finite = (value: number) => (Number.isFinite(value) ? value : null);
  return [history.map((h) => h.epoch), history.map((h) => finite(h[keys[0]])), history.map((h) => finite(h[keys[1]]))];
}

/** The chart's words, in the page's language. */
export interface ChartText {
  title: string;
  xAxis: string;
  yAxis: string;
  training: string;
  validation: string;
}

/**
 * Axes with their titles, accuracy in percent, and a legend that names the two series: uPlot's
 * live legend shows each series' value under the cursor, "--" when there is none (always, on a phone).
 */
export function chartOptions(text: ChartText, keys: ChartKeys, width: number): uPlot.Options {
  const percent = keys[0] === 'accuracy';
  return {
    title: text.title,
    width,
    height: 200,
    legend: { live: false },
    scales: { x: { time: false, range: xRange }, y: { range: yRange(keys) } },
    axes: [
      { label: text.xAxis, incrs: [1, 2, 5, 10, 20, 50, 100] },
      {
        label: text.yAxis,
        size: 48,
        values: percent ? (_u, ticks) => ticks.map((t) => `${Math.round(100 * t)}%`) : undefined,
      },
    ],
    series: [
      { label: text.xAxis },
      { label: text.training, stroke: '#2456d6', width: 2 },
      { label: text.validation, stroke: '#d6572a', width: 2, dash: [6, 3] },
    ],
  };
}
