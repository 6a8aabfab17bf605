import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitNearest, nearestProbabilities } from '../../src/core/nearest-neighbour';
import { decodeImageFile } from '../../tools/node-io';
import { loadModelDir, nodeEngine, tfjsOnly } from '../../tools/node-model';
import { requireShared, SAMPLE_1000, sampleFiles } from './shared';

/**
 * Few-shot "none of these" on real photos, as a newcomer tried it: a few photos each of birds, cats and
 * vehicles (ImageNet sample classes, one photo per class), then photos of none of them (a hot dog, food,
 * animals and objects from elsewhere in the sample). The threshold is fitted on the examples alone.
 */
const BIRDS = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89];
const CATS = [281, 282, 283, 284, 285, 383, 286, 287];
const VEHICLES = [
  407, 436, 468, 511, 555, 569, 573, 575, 609, 627, 656, 661, 705, 717, 734, 751, 757, 779, 817, 864, 867,
];
const HOT_DOG = 934;
const ELSEWHERE = [
  HOT_DOG,
  963,
  965,
  927,
  928,
  950,
  954,
  947,
  1,
  30,
  100,
  150,
  200,
  250,
  300,
  330,
  350,
  390,
  400,
  420,
  450,
  500,
  530,
  600,
  640,
  700,
  760,
  800,
  850,
  900,
  980,
  990,
];

describe('few-shot: what "none of these" catches', () => {
  it(
    'answers a hot dog among birds, cats and vehicles "none of these", and most photos of other things too, at 2, 3 and 5 photos a class',
    { timeout: 300_000 },
    async () => {
      requireShared();
      const files = sampleFiles();
      const base = tfjsOnly(await loadModelDir(resolve(import.meta.dirname, '../../public/model')), 'features');
      const engine = await nodeEngine(base);
      const node = base.spec.features!.node;
      const cache = new Map<number, Float32Array>();
      const feature = async (i: number) =>
        cache.get(i) ??
        cache
          .set(i, await engine.features(await decodeImageFile(resolve(SAMPLE_1000, files[i]!), base.spec), node))
          .get(i)!;
      try {
        for (const shots of [2, 3, 5]) {
          const classes = [BIRDS, CATS, VEHICLES];
          const examples = classes.flatMap((list, c) => list.slice(0, shots).map((i) => ({ i, c })));
          const fit = fitNearest(
            await Promise.all(examples.map((e) => feature(e.i))),
            examples.map((e) => e.c),
            classes.length,
          );
          const answer = async (i: number) => {
            const p = nearestProbabilities(fit.head, await feature(i));
            return p.indexOf(Math.max(...p));
          };
          const none = classes.length;
          const heldOut = classes.flatMap((list, c) => list.slice(shots).map((i) => ({ i, c })));
          const right = (await Promise.all(heldOut.map(async (h) => (await answer(h.i)) === h.c))).filter(
            Boolean,
          ).length;
          const caught = (await Promise.all(ELSEWHERE.map(async (i) => (await answer(i)) === none))).filter(
            Boolean,
          ).length;
          console.log(
            `${shots} photos a class: threshold ${fit.head.threshold.toFixed(3)}; held-out birds/cats/vehicles right ${right}/${heldOut.length}; other things "none of these" ${caught}/${ELSEWHERE.length}; hot dog → ${(await answer(HOT_DOG)) === none ? 'none of these' : 'a class'}`,
          );
          expect(await answer(HOT_DOG)).toBe(none);
          expect(caught / ELSEWHERE.length).toBeGreaterThanOrEqual(0.6);
          expect(right / heldOut.length).toBeGreaterThanOrEqual(0.8);
        }
      } finally {
        engine.dispose();
      }
    },
  );
});
