import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch } from '../harness/browser';
import { labelledVariants } from '../harness/labelled-photos';
import { longTasksSince, observeLongTasks } from './measure';

const FIXTURES = resolve(import.meta.dirname, '../tests/fixtures');

export interface TrainingFigures {
  images: number;
  /** Images whose features the worker computed per second (uncached). */
  featuresPerSecond: number;
  epochs: number;
  msPerEpoch: number;
  /** Main-thread tasks over 50 ms from Train to done. */
  longTasksOver50: number;
  valAccuracy: number;
}

/**
 * The Train view on `perClass` × 3 labelled photos (variants of the committed fixtures, 320 px):
 * features on whatever backend the app chose, then the head, timed in the page from the
 * status element's changes.
 */
export async function measureTraining(url: string, perClass: number): Promise<TrainingFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-bench-train-'));
  const browser = await launch();
  try {
    for (const image of await labelledVariants(FIXTURES, perClass, 0, 320)) {
      mkdirSync(join(dir, image.label), { recursive: true });
      writeFileSync(join(dir, image.label, image.name), image.buffer);
    }
    const page = await browser.context.newPage();
    await observeLongTasks(page);
    await page.goto(`${url}?view=train`);
    await page.locator('[data-testid="model-status"][data-state="ready"]').waitFor({ timeout: 180_000 });
    await page.getByTestId('train-input').setInputFiles(dir);
    await page.waitForFunction(
      (n) =>
        [...document.querySelectorAll('[data-testid=train-class]')].reduce(
          (sum, e) => sum + Number(e.getAttribute('data-count')),
          0,
        ) === n,
      perClass * 3,
    );
    await page.evaluate(() => {
      const w = window as unknown as { marks: Record<string, number> };
      w.marks = { start: performance.now() };
      const status = document.querySelector('[data-testid=train-status]')!;
      new MutationObserver(() => {
        const state = status.getAttribute('data-state')!;
        w.marks[state] ??= performance.now();
      }).observe(status, { attributes: true });
    });
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid="train-status"][data-state="done"]').waitFor({ timeout: 600_000 });
    const marks = await page.evaluate(() => (window as unknown as { marks: Record<string, number> }).marks);
    const status = page.getByTestId('train-status');
    const epochs = Number(await status.getAttribute('data-epoch'));
    return {
      images: perClass * 3,
      featuresPerSecond: (perClass * 3) / ((marks.training! - marks.start!) / 1000),
      epochs,
      msPerEpoch: (marks.done! - marks.training!) / epochs,
      longTasksOver50: await longTasksSince(page, marks.start!),
      valAccuracy: Number(await status.getAttribute('data-val-accuracy')),
    };
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function trainingMarkdown(t: TrainingFigures): string {
  return [
    `| training in the browser (${t.images} photos, 3 classes) | value | target |`,
    '|---|---|---|',
    `| features (uncached), images/s | ${t.featuresPerSecond.toFixed(1)} | ≥ 15 |`,
    `| 20 epochs on the cached features (${t.epochs} run, ${t.msPerEpoch.toFixed(0)} ms each) | ${((20 * t.msPerEpoch) / 1000).toFixed(2)} s | < 5 s |`,
    `| main-thread tasks > 50 ms from Train to done | ${t.longTasksOver50} | 0 |`,
    `| validation accuracy | ${t.valAccuracy.toFixed(3)} | |`,
  ].join('\n');
}
