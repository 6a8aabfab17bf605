import { IMAGENET_CLASSES, imageNetIndex } from './imagenet-wnids';

/** Matching dataset labels (folder names, CSV columns) to a model's classes, for the eval CLI and the app. */

/** ImageNet sample files: `<wnid>_<name>.<ext>`. */
export const WNID_FILE = /^(n\d{8})_(.+)$/;

/**
 * A label's first name and the rest: ImageNet's labels list synonyms ("dragonfly, darning needle, devil's
 * darning needle, …"), which on a phone wrap one word per line. Splits on the first comma (ASCII or CJK).
 */
export function labelNames(label: string): { first: string; rest: string } {
  const at = label.search(/[,，]/);
  return at < 0 ? { first: label, rest: '' } : { first: label.slice(0, at).trim(), rest: label.slice(at + 1).trim() };
}

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
  const matches =
    full.length > 0 ? full : labels.flatMap((l, i) => (l.toLowerCase().split(/,\s*/).includes(wanted) ? [i] : []));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1)
    throw new Error(
      `label "${text}" is ambiguous: ${matches.map((i) => `${i} (${labels[i]})`).join(', ')}; use the class index`,
    );
  const near = labels.filter((l) => l.toLowerCase().includes(wanted.split(' ')[0]!)).slice(0, 5);
  throw new Error(`label "${text}" is not a class of this model${near.length ? `; similar: ${near.join(' | ')}` : ''}`);
}

/** A name as a label's comma-separated names are compared: case, spaces, hyphens and underscores aside. */
const squeezed = (name: string) => name.toLowerCase().replace(/[\s_-]+/g, '');

/**
 * Class index from an ImageNet sample's file name. When the files hold one wnid per
 * class, the sorted wnids are the class order (ImageNet-1k's convention). For an
 * ImageNet-1k model (1000 labels) the wnid names the class whenever the name part is one of
 * that class's names, so a name two classes share ("polecat", "crane") is no obstacle;
 * otherwise the name part is matched against the labels. Returns null for a name without a wnid.
 */
export function wnidLabeller(
  fileNames: readonly string[],
  labels: readonly string[],
): (fileName: string) => number | null {
  const wnids = [...new Set(fileNames.map((f) => WNID_FILE.exec(f)?.[1]).filter((w): w is string => !!w))].sort();
  return (fileName) => {
    const match = WNID_FILE.exec(fileName);
    if (!match) return null;
    if (wnids.length === labels.length) return wnids.indexOf(match[1]!);
    const name = match[2]!.replace(/\.\w+$/, '');
    const byWnid = labels.length === IMAGENET_CLASSES ? imageNetIndex(match[1]!) : null;
    if (byWnid !== null && labels[byWnid]!.split(',').some((l) => squeezed(l) === squeezed(name))) return byWnid;
    return resolveLabel(name, labels);
  };
}
