import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../host/serve';
import { DEFAULT_SETTINGS } from '../../host/settings';
import { freePort } from '../../harness/app-server';
import { openPage } from '../../harness/browser';
import { classify, shownPredictions, waitReady } from './app';
import { teachableMachineExport, TM_NAME } from '../helpers/teachable-machine';

/** `npm run build -- --model DIR`: a site whose own model is a Teachable Machine export. */
describe('deploying your own model', () => {
  const work = mkdtempSync(join(tmpdir(), 'glimpse-own-site-'));
  const exportDir = join(work, 'tm-export');
  const outDir = join(work, 'dist');
  let server: Server;
  let url: string;

  beforeAll(async () => {
    mkdirSync(exportDir);
    for (const file of await teachableMachineExport()) writeFileSync(join(exportDir, file.name), file.bytes);
    writeFileSync(join(exportDir, 'LICENSE'), 'My model, my licence.\n');
    const built = spawnSync('npx', ['tsx', 'build/app.ts', '--out-dir', outDir, '--model', exportDir], { cwd: resolve(import.meta.dirname, '../..'), encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    expect(built.stdout).toMatch(new RegExp(`model: ${TM_NAME} \\(layers-model, 3 classes`));
    const port = await freePort();
    server = await serve({ dir: outDir, host: '127.0.0.1', port, settings: DEFAULT_SETTINGS });
    url = `http://127.0.0.1:${port}/`;
  }, 180_000);
  afterAll(async () => {
    await new Promise((done) => server?.close(done));
    rmSync(work, { recursive: true, force: true });
  });

  it('ships the model with its manifest and licence, and the site runs it', async () => {
    const manifest = JSON.parse(readFileSync(join(outDir, 'model/manifest.json'), 'utf8'));
    expect(Object.keys(manifest.files).sort()).toEqual(['LICENSE', 'labels.json', 'metadata.json', 'model.json', 'weights.bin']);
    expect(readFileSync(join(outDir, 'model/LICENSE'), 'utf8')).toBe('My model, my licence.\n');
    expect(readFileSync(join(outDir, 'sw.js'), 'utf8')).toContain('"url":"model/weights.bin"');
    const { page, close } = await openPage(url);
    try {
      await waitReady(page);
      expect(await page.getByTestId('model-status').getAttribute('data-model')).toBe(TM_NAME);
      const green = await sharp({ create: { width: 120, height: 90, channels: 3, background: { r: 30, g: 200, b: 50 } } }).png().toBuffer();
      await classify(page, [{ name: 'green.png', mimeType: 'image/png', buffer: green }]);
      expect((await shownPredictions(page, 'green.png'))[0]!.label).toBe('green');
    } finally {
      await close();
    }
  });
});
