import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../host/serve';
import { DEFAULT_SETTINGS } from '../../build/deploy-settings';
import { freePort } from '../../harness/app-server';
import { openPage } from '../../harness/browser';
import { runPrune } from '../../tools/prune';
import { decodeImageFile } from '../../tools/node-io';
import { loadModelDir, nodeEngine } from '../../tools/node-model';
import { classify, FIXTURES, shownPredictions, waitReady } from './app';
import { MODEL_DIR } from '../helpers/model';

/** `npm run prune`, then `npm run build -- --model`: a site whose model is stored sparse. */
describe('a pruned model deployed', () => {
  const work = mkdtempSync(join(tmpdir(), 'glimpse-pruned-site-'));
  const pruned = join(work, 'pruned');
  let server: Server;
  let url: string;

  beforeAll(async () => {
    await runPrune({ model: MODEL_DIR, out: pruned, sparsity: 0.2, maxDrop: 0.015 });
    const built = spawnSync('npx', ['tsx', 'build/app.ts', '--out-dir', join(work, 'dist'), '--model', pruned], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    expect(built.status, built.stderr).toBe(0);
    const port = await freePort();
    server = await serve({ dir: join(work, 'dist'), host: '127.0.0.1', port, settings: DEFAULT_SETTINGS });
    url = `http://127.0.0.1:${port}/?backend=wasm`;
  }, 240_000);
  afterAll(async () => {
    await new Promise((done) => server?.close(done));
    rmSync(work, { recursive: true, force: true });
  });

  it('ships its weights sparse, and the browser decodes them to the answers Node gives', async () => {
    const shipped = JSON.parse(readFileSync(join(work, 'dist/model/model.json'), 'utf8')) as {
      weightsManifest: { weights: { sparse?: { kept: number } }[] }[];
    };
    expect(shipped.weightsManifest.flatMap((g) => g.weights).filter((w) => w.sparse).length).toBeGreaterThan(30);
    const files = await loadModelDir(pruned);
    const engine = await nodeEngine(files);
    const expected: Record<string, { index: number; probability: number }> = {};
    try {
      for (const name of ['parrot.jpg', 'hot_dog.jpg']) {
        const { predictions } = await engine.classify(await decodeImageFile(resolve(FIXTURES, name), files.spec), 1);
        expected[name] = predictions[0]!;
      }
    } finally {
      engine.dispose();
    }
    const { page, close } = await openPage(url);
    try {
      expect(await waitReady(page)).toBe('wasm');
      await classify(
        page,
        ['parrot.jpg', 'hot_dog.jpg'].map((f) => resolve(FIXTURES, f)),
      );
      for (const name of ['parrot.jpg', 'hot_dog.jpg']) {
        const [top] = await shownPredictions(page, name);
        expect(top!.index).toBe(expected[name]!.index);
        // The browser decodes the image itself: the same answer, its probability within a few points.
        expect(Math.abs(top!.probability - expected[name]!.probability)).toBeLessThan(0.05);
      }
    } finally {
      await close();
    }
  });
});
