import { resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, longTasks, observeLongTasks, shownPredictions, waitSettled } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';

const baseUrl = inject('baseUrl');

/** A pointing-game photo: a parrot in the top-left quadrant, a hot dog in the bottom-right, grey elsewhere. */
async function composite(): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  const tile = (name: string) =>
    sharp(resolve(FIXTURES, name)).resize(300, 300, { fit: 'cover' }).removeAlpha().png().toBuffer();
  const buffer = await sharp({
    create: { width: 600, height: 600, channels: 3, background: { r: 128, g: 128, b: 128 } },
  })
    .composite([
      { input: await tile('parrot.jpg'), left: 0, top: 0 },
      { input: await tile('hot_dog.jpg'), left: 300, top: 300 },
    ])
    .jpeg()
    .toBuffer();
  return { name: 'two-photos.jpg', mimeType: 'image/jpeg', buffer };
}

describe('Explain: where the model looked', () => {
  it(
    'draws an occlusion map whose peak lies on the photo of the explained class, while the queue goes on',
    { timeout: 240_000 },
    async () => {
      const { page, close } = await openPage(baseUrl, {
        init: observeLongTasks,
      });
      try {
        await waitSettled(page);
        // The pointing-game photo first, then 40 more that are still being classified when Explain is clicked.
        const cat = await sharp(resolve(FIXTURES, 'cat.png')).jpeg().toBuffer();
        const more = Array.from({ length: 40 }, (_, i) => ({
          name: `cat-${i}.jpg`,
          mimeType: 'image/jpeg',
          buffer: cat,
        }));
        await classify(page, [await composite(), ...more]);
        const shown = await shownPredictions(page, 'two-photos.jpg');
        const card = page.locator('article', { has: page.locator('[data-image-name="two-photos.jpg"]') });
        // The quadrant of the photo each class belongs to: the parrot's top-left, the hot dog's (on its plate) bottom-right.
        const quadrant = (p: { x: number; y: number }) =>
          p.x < 0.5 && p.y < 0.5 ? 'parrot' : p.x > 0.5 && p.y > 0.5 ? 'hotdog' : 'grey';
        const photoOf: Record<number, string> = {
          [EXPECTED_TOP1['parrot.jpg']!]: 'parrot',
          [EXPECTED_TOP1['hot_dog.jpg']!]: 'hotdog',
          923: 'hotdog',
        };
        // Two classes of the answer, one for each photo: the pointing game is played only on classes a photo stands for.
        const first = shown.find((p) => photoOf[p.index]);
        const other = shown.find((p) => photoOf[p.index] && photoOf[p.index] !== photoOf[first?.index ?? -1]);
        expect(first, JSON.stringify(shown)).toBeDefined();
        expect(other, JSON.stringify(shown)).toBeDefined();
        await longTasks(page, true);
        const started = Date.now();
        await card.getByTestId('explain').click();
        const explanation = card.getByTestId('explanation');
        // The rest of the batch is answered too (that an explanation's runs take turns with photos is unit-tested: engine.test.ts).
        const waiting = await page.locator('[data-testid="predictions"]').count();
        expect((await shownPredictions(page, 'cat-39.jpg'))[0]!.index).toBe(EXPECTED_TOP1['cat.png']);
        await expect.poll(() => explanation.getAttribute('data-state'), { timeout: 120_000 }).toBe('done');
        const longest = Math.max(0, ...(await longTasks(page)));
        // How long, and the main thread's longest task meanwhile, are the bench's (bench/explain.ts): they depend on the machine's load.
        console.log(
          `explanation of "${shown[0]!.label}" (occlusion) in ${Date.now() - started} ms, ${41 - waiting} photos of the batch still to classify when it was asked for; longest main-thread task ${longest} ms`,
        );
        expect(await explanation.getAttribute('data-method')).toBe('occlusion');
        expect(await explanation.getAttribute('data-class')).toBe(String(shown[0]!.index));

        // Each of the two classes, picked there: the peak lies on that class's photo.
        for (const target of [first!, other!]) {
          if (target.index !== shown[0]!.index) {
            await card.getByTestId('explain-class').selectOption(String(target.index));
            await expect
              .poll(() => explanation.getAttribute('data-class'), { timeout: 120_000 })
              .toBe(String(target.index));
          }
          await expect.poll(() => explanation.getAttribute('data-state'), { timeout: 120_000 }).toBe('done');
          const peak = {
            x: Number(await explanation.getAttribute('data-peak-x')),
            y: Number(await explanation.getAttribute('data-peak-y')),
          };
          expect(quadrant(peak), `${target.label}: ${JSON.stringify(peak)}`).toBe(photoOf[target.index]);
        }
      } finally {
        await close();
      }
    },
  );
});
