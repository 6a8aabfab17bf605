import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { unzipSync } from 'fflate';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { labelledVariants } from '../../harness/labelled-photos';
import { classify, FIXTURES, installed, LABELS, shownPredictions, waitReady } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';
import { loadModel, nodeEngine } from '../../tools/node-model';
import { decodeImageFile } from '../../tools/node-io';

const baseUrl = inject('baseUrl');
const dir = mkdtempSync(join(tmpdir(), 'glimpse-distill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Photos under `root`, a folder per `folder(label)`. */
function writeFolder(
  root: string,
  photos: { label: string; name: string; buffer: Buffer }[],
  folder = (l: string) => l,
) {
  for (const photo of photos) {
    mkdirSync(join(root, folder(photo.label)), { recursive: true });
    writeFileSync(join(root, folder(photo.label), photo.name.replace(/^.*__/, '')), photo.buffer);
  }
  return root;
}

describe('Make a smaller model', () => {
  it(
    'teaches the small student the active model’s answers on unlabelled photos; the student is stored, evaluated and used',
    { timeout: 300_000 },
    async () => {
      // Unlabelled to the app (the folder names are ignored); labelled for the evaluation that follows.
      const photos = writeFolder(join(dir, 'photos'), await labelledVariants(FIXTURES, 10));
      const studentClasses: Record<string, string> = { parrot: 'macaw', hotdog: 'hotdog', cat: 'other' };
      const heldOut = writeFolder(
        join(dir, 'held-out'),
        await labelledVariants(FIXTURES, 3, 40),
        (label) => studentClasses[label]!,
      );
      const { page, context, close } = await openPage(`${baseUrl}?view=models&backend=wasm`);
      try {
        await waitReady(page);
        await installed(page);
        const panel = page.getByTestId('distill-panel');
        await panel.locator('summary').click();
        await page.getByTestId('distill-folder').setInputFiles(photos);
        await expect.poll(() => page.getByTestId('distill-count').getAttribute('data-count')).toBe('30');
        await page.getByTestId('distill-classes').fill('macaw, hotdog');
        await page.getByTestId('distill-start').click();
        const status = page.getByTestId('distill-status');
        await expect.poll(() => status.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
        const agreement = Number(await status.getAttribute('data-agreement'));
        const result = page.getByTestId('distill-result');
        const id = await result.getAttribute('data-model-id');
        console.log(`in the app: ${await result.innerText()}`);
        // 30 photos: every fifth (6) held out; the head learned the teacher's answers to the rest.
        expect(agreement).toBeGreaterThanOrEqual(5 / 6);
        const item = page.locator(`[data-testid="model-item"][data-model-id="${id}"]`);
        await expect.poll(() => item.count()).toBe(1);
        expect(await item.innerText()).toMatch(/3 classes/);
        const studentName = await item.getAttribute('data-model-name');

        // Exported as it is stored: a Glimpse folder with the backbone's licence, which the tools load as the app does.
        const [download] = await Promise.all([page.waitForEvent('download'), item.getByTestId('model-export').click()]);
        const zip = join(dir, 'student.zip');
        writeFileSync(zip, await readFile((await download.path())!));
        expect(Object.keys(unzipSync(readFileSync(zip))).sort()).toEqual(
          ['LICENSE', 'weights.bin', 'labels.json', 'manifest.json', 'metadata.json', 'model.json'].sort(),
        );
        const exported = await loadModel(zip);
        const engine = await nodeEngine(exported);
        try {
          const parrot = await engine.classify(await decodeImageFile(join(FIXTURES, 'parrot.jpg'), exported.spec), 1);
          expect(parrot.predictions[0]!.label).toBe('macaw');
        } finally {
          engine.dispose();
        }

        await page.getByTestId('distill-use').click();
        await expect.poll(() => item.getAttribute('data-active'), { timeout: 60_000 }).toBe('true');

        // Evaluated like any model, on photos it never saw, with its own three classes.
        await page.getByTestId('view-evaluate').click();
        await page.getByTestId('eval-folder').setInputFiles(heldOut);
        const summary = page.getByTestId('eval-summary');
        await summary.waitFor({ timeout: 120_000 });
        expect(await summary.getAttribute('data-n')).toBe('9');
        const top1 = Number(await summary.getAttribute('data-top1'));
        console.log(`the student's top-1 on 9 held-out photos: ${top1}`);
        expect(top1).toBeGreaterThanOrEqual(7 / 9);

        // Side by side with its teacher on the same photos, labelled by the student's classes: the
        // teacher has no "other", so its answers for the cats count as wrong, as npm run compare counts them.
        await page.getByTestId('compare-panel').locator('summary').click();
        await page.locator(`[data-testid="compare-model"][data-model-id="${id}"]`).check();
        await page.locator('[data-testid="compare-model"][data-model-id="builtin"]').check();
        await page.getByTestId('compare-folder').setInputFiles(heldOut);
        await page.getByTestId('compare-start').click();
        const table = page.getByTestId('compare-table');
        await expect.poll(() => table.getAttribute('data-state'), { timeout: 120_000 }).toBe('done');
        const rows = await page.getByTestId('compare-row').evaluateAll((els) =>
          els.map((e) => ({
            id: e.getAttribute('data-model-id'),
            top1: Number(e.getAttribute('data-top1')),
            agreement: Number(e.getAttribute('data-agreement')),
            ms: Number(e.getAttribute('data-ms')),
            bytes: Number(e.getAttribute('data-bytes')),
          })),
        );
        console.log(`compared in the app: ${JSON.stringify(rows)}`);
        expect(rows.map((r) => r.id)).toEqual([id, 'builtin']);
        const [student, teacher] = rows as [(typeof rows)[0], (typeof rows)[0]];
        expect(student.top1).toBeCloseTo(top1, 5);
        expect(student.agreement).toBe(1);
        // The cats' photos (3 of 9) are "other" to the student, a cat's breed to the teacher.
        expect(teacher.top1).toBeLessThanOrEqual(6 / 9);
        expect(teacher.agreement).toBeCloseTo(teacher.top1, 5);
        expect(student.bytes).toBeLessThan(0.3 * teacher.bytes);
        expect(student.ms).toBeGreaterThan(0);
        expect(await page.getByTestId('compare-plot').getAttribute('data-points')).toBe('2');
        // The comparison ran each model in turn and gave the student its place back.
        await expect.poll(() => page.getByTestId('model-status').getAttribute('data-model')).toBe(studentName);

        // And used: its answers are its own classes.
        await page.getByTestId('view-classify').click();
        await classify(page, [`${FIXTURES}/parrot.jpg`]);
        const shown = await shownPredictions(page, 'parrot.jpg');
        expect(shown[0]!.label).toBe(LABELS[EXPECTED_TOP1['parrot.jpg']!]);
        expect(shown.length).toBeLessThanOrEqual(3);

        // Offline, once a student was fetched: the service worker answers it from the copy the import worker kept.
        await context.setOffline(true);
        await page.getByTestId('view-models').click();
        await page.getByTestId('distill-panel').locator('summary').click();
        await page.getByTestId('distill-start').click();
        await expect.poll(() => status.getAttribute('data-state'), { timeout: 240_000 }).toBe('done');
        expect(await page.getByTestId('distill-result').getAttribute('data-model-id')).toMatch(/^[0-9a-f]{16}$/);
      } finally {
        await close();
      }
    },
  );
});
