import { describe, expect, it } from 'vitest';
import { csv } from '../../src/core/csv';
import { confusionCsv, evaluate, perClassCsv } from '../../src/core/metrics';
import { resultsToCsv, resultsToJson } from '../../src/lib/export-results';
import type { ImageResult } from '../../src/lib/batch.svelte';

/** File names an attacker chooses so that opening the export in a spreadsheet runs them. */
const HOSTILE = [
  '=HYPERLINK("http://x").jpg',
  '=1+1.jpg',
  '@SUM(1+1).jpg',
  "+cmd|' /C calc'!A0.jpg",
  '-2+3.jpg',
  '\t=1+1.jpg',
  '\r=1+1.jpg',
];

/** RFC 4180 reader, enough to see each cell as a spreadsheet would. */
function cells(text: string): string[][] {
  const rows: string[][] = [[]];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') ((cell += '"'), i++);
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') (rows.at(-1)!.push(cell), (cell = ''));
    else if (c === '\n') (rows.at(-1)!.push(cell), (cell = ''), rows.push([]));
    else cell += c;
  }
  return rows.filter((row) => row.length > 0);
}

const isFormula = (cell: string) => /^[=+\-@\t\r]/.test(cell) && !/^[+-]?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(cell);

describe('CSV exports', () => {
  it('neutralise every cell a spreadsheet would run as a formula, in the batch export', () => {
    const results: ImageResult[] = HOSTILE.map((name, id) => ({
      id,
      name,
      status: 'done',
      result: {
        predictions: [{ label: name, index: 1, probability: 0.5 }],
        backend: 'wasm',
        ms: 12,
        memory: { tensors: 1, bytes: 4 },
      },
    }));
    const table = cells(resultsToCsv(results));
    expect(table.flat().filter(isFormula)).toEqual([]);
    // The text itself survives, behind the apostrophe that spreadsheets hide.
    expect(table.slice(1).map((row) => row[0])).toEqual(HOSTILE.map((name) => `'${name}`));
    // JSON stays exact.
    expect(JSON.parse(resultsToJson(results)).map((r: { image: string }) => r.image)).toEqual(HOSTILE);
  });

  it('neutralise hostile class labels in the per-class and confusion exports', () => {
    const report = evaluate(
      [
        { truth: 0, ranked: [1], ms: 1 },
        { truth: 1, ranked: [1], ms: 1 },
      ],
      HOSTILE.slice(0, 2),
    );
    for (const text of [perClassCsv(report), confusionCsv(report)])
      expect(cells(text).flat().filter(isFormula)).toEqual([]);
  });

  it('leave numbers, negative ones too, as numbers', () => {
    expect(csv([[-2.5, '-2.5', '1e-3', 0.25]])).toBe('-2.5,-2.5,1e-3,0.25\n');
    expect(csv([['a,b', 'say "hi"', 'two\nlines']])).toBe('"a,b","say ""hi""","two\nlines"\n');
  });
});
