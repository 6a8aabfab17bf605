/**
 * Models side by side on the same labelled photos, as `npm run compare` and the Evaluate view
 * report them: top-1 against the photos' classes (by label: a photo whose class a model does not
 * have counts as wrong for it), agreement with the first model's answers, and ms per photo.
 */

/** One model's answers (class names) to the photos, in order. */
export function top1(answers: readonly string[], truth: readonly string[]): number {
  return truth.length ? answers.filter((a, k) => a === truth[k]).length / truth.length : Number.NaN;
}

/** Share of the photos on which `answers` name the same class as `reference`. */
export function agreement(answers: readonly string[], reference: readonly string[]): number {
  return reference.length ? answers.filter((a, k) => a === reference[k]).length / reference.length : Number.NaN;
}

/** A point of the plot: a model's name, accuracy and speed. */
export interface PlotPoint {
  label: string;
  top1: number;
  msPerImage: number;
}

/** Where everything of the accuracy-against-ms plot goes, for the CLI's SVG file and the Evaluate view's drawing alike. */
export function plotLayout(points: readonly PlotPoint[]) {
  const [width, height, pad] = [640, 400, 60];
  const maxMs = Math.max(...points.map((r) => r.msPerImage)) * 1.15 || 1;
  const x = (ms: number) => pad + (ms / maxMs) * (width - 2 * pad);
  const y = (accuracy: number) => height - pad - accuracy * (height - 2 * pad);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return {
    width,
    height,
    pad,
    yTicks: ticks.map((t) => ({ y: y(t), text: `${t * 100}%` })),
    xTicks: ticks.map((t) => ({ x: x(t * maxMs), text: (t * maxMs).toFixed(0) })),
    points: points.map((p) => ({ ...p, x: x(p.msPerImage), y: y(p.top1) })),
  };
}

/** Accuracy against ms per image, one labelled point per model, as a self-contained SVG (names escaped). */
export function accuracyPlot(points: readonly PlotPoint[]): string {
  const { width, height, pad, xTicks, yTicks, points: placed } = plotLayout(points);
  const escape = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="black"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="black"/>
${yTicks.map((t) => `<text x="${pad - 8}" y="${t.y + 4}" text-anchor="end">${t.text}</text>`).join('\n')}
${xTicks.map((t) => `<text x="${t.x}" y="${height - pad + 18}" text-anchor="middle">${t.text}</text>`).join('\n')}
<text x="${width / 2}" y="${height - 15}" text-anchor="middle">ms per image</text>
<text x="15" y="${height / 2}" text-anchor="middle" transform="rotate(-90 15 ${height / 2})">top-1 accuracy (%)</text>
${placed
  .map(
    (p) =>
      `<circle cx="${p.x}" cy="${p.y}" r="5" fill="#2563eb"/><text x="${p.x + 8}" y="${p.y - 8}">${escape(p.label)}</text>`,
  )
  .join('\n')}
</svg>
`;
}
