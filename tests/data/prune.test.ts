import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WeightEntry } from '../../model/sparse-weights';
import { runPrune } from '../../tools/prune';
import { MODEL_DIR } from '../helpers/model';
import { requireShared, SAMPLE_1000 } from './shared';

describe('npm run prune --auto on the built-in model', () => {
  it('chooses per-layer sparsities within the drop on half the ImageNet sample, and holds on the other half', async () => {
    requireShared();
    const out = mkdtempSync(join(tmpdir(), 'glimpse-prune-auto-'));
    const lines: string[] = [];
    const report = await runPrune({ model: MODEL_DIR, out, maxDrop: 0.015, images: SAMPLE_1000 }, (line) =>
      lines.push(line),
    );
    console.log(`prune --auto: ${lines.join('; ')}\n${JSON.stringify({ ...report, layers: undefined })}`);
    const { chosenOn, ...heldOut } = report.top1!;
    expect(chosenOn!.before - chosenOn!.after).toBeLessThanOrEqual(0.015);
    expect(report.sparsity.prunable).toBeGreaterThan(0.05);
    // 500 held-out photos, one photo each of 500 classes: two points of slack for the sampling.
    expect(heldOut.before - heldOut.after).toBeLessThanOrEqual(0.035);
    expect(report.bytes.after.raw).toBeLessThan(report.bytes.before.raw);
    const entries = (
      JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { weightsManifest: { weights: WeightEntry[] }[] }
    ).weightsManifest.flatMap((g) => g.weights);
    const pruned = report.layers.filter((l) => l.sparsity > 0).map((l) => l.name);
    expect(pruned.filter((name) => !entries.find((e) => e.name === name)?.sparse)).toEqual([]);
  }, 1_800_000);
});
