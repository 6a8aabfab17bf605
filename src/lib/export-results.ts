import { csv } from '../core/csv';
import { isSure } from '../core/predictions';
import type { ImageResult } from './batch.svelte';

/**
 * One row per image and rank: image,rank,label,index,probability,backend,ms,error,sure (errors get their
 * error name; `sure` is whether the image's top-1 reaches `minConfidence`, the same on each of its rows).
 */
export function resultsToCsv(results: readonly ImageResult[], minConfidence = 0): string {
  const rows = [['image', 'rank', 'label', 'index', 'probability', 'backend', 'ms', 'error', 'sure']];
  for (const r of results) {
    if (r.status === 'done' && r.result) {
      const sure = String(isSure(r.result.predictions, minConfidence));
      r.result.predictions.forEach((p, rank) =>
        rows.push([
          r.name,
          String(rank + 1),
          p.label,
          String(p.index),
          p.probability.toFixed(6),
          r.result!.backend,
          r.result!.ms.toFixed(1),
          '',
          sure,
        ]),
      );
    } else if (r.status === 'error') {
      rows.push([r.name, '', '', '', '', '', '', (r.error as Error | undefined)?.name ?? 'UnknownError', '']);
    }
  }
  return csv(rows);
}

export function resultsToJson(results: readonly ImageResult[], minConfidence = 0): string {
  return JSON.stringify(
    results.map((r) =>
      r.status === 'done' && r.result
        ? {
            image: r.name,
            predictions: r.result.predictions,
            sure: isSure(r.result.predictions, minConfidence),
            backend: r.result.backend,
            ms: r.result.ms,
          }
        : {
            image: r.name,
            error: r.status === 'error' ? ((r.error as Error | undefined)?.name ?? 'UnknownError') : 'pending',
          },
    ),
    null,
    2,
  );
}

/** Saves text or bytes as a file through a temporary blob: link (nothing is uploaded). */
export function download(name: string, type: string, content: string | Uint8Array<ArrayBuffer> | Blob): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}
