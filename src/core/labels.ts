/** Matching dataset labels (folder names, CSV columns) to a model's classes, for the eval CLI and the app. */

/** ImageNet sample files: `<wnid>_<name>.<ext>`. */
export const WNID_FILE = /^(n\d{8})_(.+)$/;

/** Label text or index → class index: an index, the full label, or one of its comma-separated names. */
export function resolveLabel(label: string, labels: readonly string[]): number {
  const text = label.trim();
  if (/^\d+$/.test(text)) {
    const index = Number(text);
    if (index < labels.length) return index;
    throw new Error(`label index ${index} is out of range (the model has ${labels.length} classes)`);
  }
  const wanted = text.toLowerCase().replace(/_/g, ' ');
  const full = labels.flatMap((l, i) => (l.toLowerCase() === wanted ? [i] : []));
  const matches = full.length > 0 ? full : labels.flatMap((l, i) => (l.toLowerCase().split(/,\s*/).includes(wanted) ? [i] : []));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new Error(`label "${text}" is ambiguous: ${matches.map((i) => `${i} (${labels[i]})`).join(', ')}; use the class index`);
  const near = labels.filter((l) => l.toLowerCase().includes(wanted.split(' ')[0]!)).slice(0, 5);
  throw new Error(`label "${text}" is not a class of this model${near.length ? `; similar: ${near.join(' | ')}` : ''}`);
}

