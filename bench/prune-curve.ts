import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { planSparsity, prunableLayers, rankedSteps, searchPlan, uniformPlan, type PrunePlan } from '../model/pruning';
import { filesOf, scan, SCAN_IMAGES } from '../tools/prune';
import { accuracyOf, loadImages, readSource, topOnes } from '../tools/quantize';

/**
 * Accuracy against sparsity for the built-in model, pruned uniformly and scan-guided, on the shared
 * ImageNet sample: plans are chosen on its even-numbered photos and measured on the odd-numbered
 * ones (docs/PERFORMANCE.md, "Pruning").
 *
 *   npx tsx bench/prune-curve.ts [--images ../shared/images/imagenet-sample-1000] [--json curve.json]
 */

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'public/model' },
    images: { type: 'string', default: resolve(import.meta.dirname, '../../shared/images/imagenet-sample-1000') },
    uniform: { type: 'string', default: '0.1,0.2,0.3,0.4,0.5,0.6' },
    drops: { type: 'string', default: '0.005,0.015,0.03,0.06' },
    json: { type: 'string' },
  },
});

const source = await readSource(values.model);
const layers = prunableLayers(source.weights);
const images = await loadImages(values.images, source);
const chooseOn = images.filter((_, i) => i % 2 === 0);
const heldOut = images.filter((_, i) => i % 2 === 1);
const top1 = async (plan: PrunePlan, on: typeof images) =>
  accuracyOf(await topOnes(await filesOf(source, plan), on), on);

const rows: { method: string; setting: string; sparsity: number; top1: number }[] = [];
const before = await top1(new Map(), heldOut);
rows.push({ method: 'none', setting: '–', sparsity: 0, top1: before });
console.error(`${heldOut.length} held-out photos, top-1 ${(100 * before).toFixed(1)}%`);
for (const s of values.uniform.split(',').map(Number)) {
  const plan = uniformPlan(layers, s);
  rows.push({
    method: 'uniform',
    setting: `${s}`,
    sparsity: planSparsity(layers, plan),
    top1: await top1(plan, heldOut),
  });
  console.error(JSON.stringify(rows.at(-1)));
}
const sensitivities = await scan(source, layers, chooseOn.slice(0, SCAN_IMAGES), () => undefined);
const steps = rankedSteps(layers, sensitivities);
const chosenBefore = await top1(new Map(), chooseOn);
for (const drop of values.drops.split(',').map(Number)) {
  const { plan } = await searchPlan(steps, chosenBefore, drop, (p) => top1(p, chooseOn));
  rows.push({
    method: 'scan-guided',
    setting: `max drop ${drop}`,
    sparsity: planSparsity(layers, plan),
    top1: await top1(plan, heldOut),
  });
  console.error(JSON.stringify(rows.at(-1)));
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(
  [
    `| pruning | setting | prunable weights zeroed | top-1 on ${heldOut.length} held-out photos | drop (points) |`,
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.setting} | ${pct(r.sparsity)} | ${pct(r.top1)} | ${(100 * (before - r.top1)).toFixed(1)} |`,
    ),
  ].join('\n'),
);
if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
