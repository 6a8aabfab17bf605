import { resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import { loadModelDir, nodeEngine } from './node-model';
import { decodeImageFile } from './node-io';
const a = await loadModelDir('/tmp/conv'); const b = await loadModelDir('public/model');
const ea = await nodeEngine(a); const eb = await nodeEngine(b);
let maxDiff = 0, same = 0, n = 0;
const dir = '../shared/images/imagenet-sample-1000';
for (const f of readdirSync(dir).filter((f) => f.endsWith('.JPEG')).sort().slice(0, Number(process.argv[2] ?? 50))) {
  const px = await decodeImageFile(resolve(dir, f), b.spec);
  const pa = (await ea.classify(px, 1000)).predictions; const pb = (await eb.classify(px, 1000)).predictions;
  const va = new Map(pa.map((p) => [p.index, p.probability]));
  for (const p of pb) maxDiff = Math.max(maxDiff, Math.abs(p.probability - va.get(p.index)!));
  if (pa[0]!.index === pb[0]!.index) same++; n++;
}
console.log({ n, same, maxDiff });
