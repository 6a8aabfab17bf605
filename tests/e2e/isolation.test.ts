import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../host/serve';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, NO_GPU_BACKENDS, shownPredictions, waitReady } from './app';
import { freePort } from '../../harness/app-server';
import { EXPECTED_TOP1 } from '../helpers/model';
import { huggingFaceFiles, tinyOnnx } from '../helpers/onnx-files';
import sharp from 'sharp';

describe('GLIMPSE_ISOLATE=1 (cross-origin isolation for wasm threads)', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'glimpse-isolated-'));
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const built = spawnSync('npx', ['tsx', 'build/app.ts', '--out-dir', outDir], {
      cwd: resolve(import.meta.dirname, '../..'),
      env: { ...process.env, GLIMPSE_ISOLATE: '1' },
      encoding: 'utf8',
    });
    expect(built.status, built.stderr).toBe(0);
    const port = await freePort();
    server = await serve({ dir: outDir, host: '127.0.0.1', port, settings: { embedOrigins: '*', isolate: true } });
    url = `http://127.0.0.1:${port}/`;
  }, 120_000);
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    rmSync(outDir, { recursive: true, force: true });
  });

  it('is cross-origin isolated and classifies on wasm', async () => {
    const { page, close } = await openPage(url);
    try {
      expect(NO_GPU_BACKENDS).toContain(await waitReady(page));
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      await classify(page, [resolve(FIXTURES, 'cat.png')]);
      expect((await shownPredictions(page, 'cat.png'))[0]!.index).toBe(EXPECTED_TOP1['cat.png']);
    } finally {
      await close();
    }
  });

  it('runs LiteRT threaded there, its pthreads loading their glue from this origin, with the expected answers', async () => {
    const requests: string[] = [];
    const { page, close } = await openPage(`${url}?backend=litert`, {
      init: async (p) => void p.context().on('request', (r) => requests.push(new URL(r.url()).pathname)),
    });
    try {
      expect(await waitReady(page)).toBe('litert');
      await classify(
        page,
        ['parrot.jpg', 'cat.png', 'hot_dog.jpg'].map((n) => resolve(FIXTURES, n)),
      );
      for (const name of ['parrot.jpg', 'cat.png', 'hot_dog.jpg'])
        expect((await shownPredictions(page, name))[0]!.index, name).toBe(EXPECTED_TOP1[name]);
      expect(
        requests.filter((r) => /litert_wasm_threaded_internal-[\w-]+\.(wasm|js)$/.test(r)).length,
      ).toBeGreaterThanOrEqual(2);
      expect(requests.filter((r) => /litert_wasm_internal-/.test(r))).toEqual([]);
    } finally {
      await close();
    }
  });

  it(
    'runs an ONNX model on ONNX Runtime with its threads there, with the expected answers',
    { timeout: 180_000 },
    async () => {
      const { config, preprocessor } = huggingFaceFiles(['red', 'green', 'blue']);
      const upload = (name: string, bytes: Uint8Array | string) => ({
        name,
        mimeType: 'application/octet-stream',
        buffer: Buffer.from(bytes),
      });
      const { page, close } = await openPage(`${url}?view=models`);
      try {
        await waitReady(page);
        expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
        await page
          .getByTestId('model-import')
          .setInputFiles([
            upload('config.json', JSON.stringify(config)),
            upload('preprocessor_config.json', JSON.stringify(preprocessor)),
            upload('model.onnx', tinyOnnx()),
          ]);
        await expect
          .poll(() => page.getByTestId('model-status').getAttribute('data-backend'), { timeout: 120_000 })
          .toBe('onnx-wasm');
        await page.getByTestId('view-classify').click();
        const blue = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 20, g: 40, b: 210 } } })
          .png()
          .toBuffer();
        await classify(page, [{ name: 'blue.png', mimeType: 'image/png', buffer: blue }]);
        expect((await shownPredictions(page, 'blue.png'))[0]!.label).toBe('blue');
      } finally {
        await close();
      }
    },
  );
});
