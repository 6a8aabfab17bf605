import { csv } from './csv';

/**
 * Classification metrics from (true, predicted top-k) pairs: accuracy, per-class
 * precision / recall / F1 / support, macro and weighted averages, confusion matrix.
 * Shared by `npm run eval` and the app, so both report the same numbers.
 */

export interface ClassMetrics {
  label: string;
  index: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

export interface EvaluationReport {
  n: number;
  top1: number;
  top5: number;
  macro: Averages;
  weighted: Averages;
  perClass: ClassMetrics[];
  /** confusion[true][predicted] counts, over the classes in `perClass` order (all classes of the model). */
  confusion: number[][];
  msPerImage: number;
}

export interface Sample {
  /** True class index. */
  truth: number;
  /** Predicted class indices, most probable first (at least one). */
  ranked: readonly number[];
  ms: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Classes a report covers: its confusion matrix holds classes² counts (4096² ≈ 17 million, ~67 MB). */
export const MAX_EVALUATED_CLASSES = 4096;

/** The classes that occur in the truth or the predictions: what macro averages and tables cover. */
export function presentClasses({
  perClass,
  confusion,
}: Pick<EvaluationReport, 'perClass' | 'confusion'>): ClassMetrics[] {
  return perClass.filter((c) => c.support > 0 || confusion.some((row) => row[c.index]! > 0));
}

/**
 * Precision of a class never predicted is 0 and recall of a class with no samples is 0
 * (scikit-learn's zero_division=0). Macro averages run over the classes that occur in
 * the truth or the predictions; weighted averages weight by support.
 */
export function evaluate(samples: readonly Sample[], labels: readonly string[]): EvaluationReport {
  const k = labels.length;
  if (k > MAX_EVALUATED_CLASSES)
    throw new RangeError(
      `a model of ${k} classes cannot be evaluated: its confusion matrix would hold ${k}² counts (at most ${MAX_EVALUATED_CLASSES} classes)`,
    );
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let top1 = 0;
  let top5 = 0;
  let ms = 0;
  for (const { truth, ranked, ms: t } of samples) {
    if (!(truth >= 0 && truth < k)) throw new RangeError(`true class ${truth} is not one of the ${k} classes`);
    confusion[truth]![ranked[0]!]!++;
    if (ranked[0] === truth) top1++;
    if (ranked.slice(0, 5).includes(truth)) top5++;
    ms += t;
  }
  const perClass: ClassMetrics[] = labels.map((label, index) => {
    const tp = confusion[index]![index]!;
    const support = confusion[index]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((sum, row) => sum + row[index]!, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { label, index, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const present = presentClasses({ perClass, confusion });
  const n = samples.length;
  const mean = (key: keyof Averages) =>
    ratio(
      present.reduce((s, c) => s + c[key], 0),
      present.length,
    );
  const weighted = (key: keyof Averages) =>
    ratio(
      perClass.reduce((s, c) => s + c[key] * c.support, 0),
      n,
    );
  return {
    n,
    top1: ratio(top1, n),
    top5: ratio(top5, n),
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
    weighted: { precision: weighted('precision'), recall: weighted('recall'), f1: weighted('f1') },
    perClass,
    confusion,
    msPerImage: ratio(ms, n),
  };
}

/** The most frequent off-diagonal cells: what a 1000-class confusion matrix is read for. */
export function topConfusions(
  report: EvaluationReport,
  count = 10,
): { truth: string; predicted: string; count: number }[] {
  const cells: { truth: string; predicted: string; count: number }[] = [];
  report.confusion.forEach((row, t) =>
    row.forEach((c, p) => {
      if (c > 0 && p !== t)
        cells.push({ truth: report.perClass[t]!.label, predicted: report.perClass[p]!.label, count: c });
    }),
  );
  return cells.sort((a, b) => b.count - a.count).slice(0, count);
}

/** The confusion matrix as CSV: a header of predicted labels, one row per true label. */
export function confusionCsv(report: EvaluationReport): string {
  const labels = report.perClass.map((c) => c.label);
  return csv([['truth \\ predicted', ...labels], ...report.confusion.map((row, i) => [labels[i]!, ...row])]);
}

/** Per-class metrics as CSV, one row per class of the model. */
export function perClassCsv(report: EvaluationReport): string {
  return csv([
    ['index', 'label', 'precision', 'recall', 'f1', 'support'],
    ...report.perClass.map((c) => [c.index, c.label, c.precision, c.recall, c.f1, c.support]),
  ]);
}
