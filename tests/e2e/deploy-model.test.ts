import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../host/serve';
import { DEFAULT_SETTINGS } from '../../build/deploy-settings';
import { freePort, startApp } from '../../harness/app-server';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, LABELS, shownPredictions, waitReady } from './app';
import { startHostPage } from './host-page';
import { EXPECTED_TOP1 } from '../helpers/model';
import { teachableMachineExport, TM_NAME } from '../helpers/teachable-machine';
import { huggingFaceFiles, tinyOnnx } from '../helpers/onnx-files';

/** `npm run build -- --model DIR`: a site whose own model is a Teachable Machine export. */
describe('deploying your own model', () => {
  const work = mkdtempSync(join(tmpdir(), 'glimpse-own-site-'));
  const exportDir = join(work, 'tm-export');
  const modelsDir = join(work, 'models');
  const outDir = join(work, 'dist');
  let server: Server;
  let url: string;

  beforeAll(async () => {
    mkdirSync(exportDir);
    for (const file of await teachableMachineExport()) writeFileSync(join(exportDir, file.name), file.bytes);
    writeFileSync(join(exportDir, 'LICENSE'), 'My model, my licence.\n');
    // A second model the site ships beside its own: a .tflite with its labels, in models/v1/.
    mkdirSync(join(modelsDir, 'v1'), { recursive: true });
    copyFileSync(
      resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite'),
      join(modelsDir, 'v1', 'mobilenet_v1_0.75_192_quant.tflite'),
    );
    writeFileSync(join(modelsDir, 'v1', 'labels.json'), JSON.stringify(LABELS));
    // And an ONNX model as Hugging Face lays one out, in models/onnx1/.
    const { config, preprocessor } = huggingFaceFiles(['red', 'green', 'blue']);
    mkdirSync(join(modelsDir, 'onnx1', 'onnx'), { recursive: true });
    writeFileSync(join(modelsDir, 'onnx1', 'config.json'), JSON.stringify(config));
    writeFileSync(join(modelsDir, 'onnx1', 'preprocessor_config.json'), JSON.stringify(preprocessor));
    writeFileSync(join(modelsDir, 'onnx1', 'onnx', 'model_quantized.onnx'), tinyOnnx());
    const built = spawnSync(
      'npx',
      ['tsx', 'build/app.ts', '--out-dir', outDir, '--model', exportDir, '--models', modelsDir],
      { cwd: resolve(import.meta.dirname, '../..'), encoding: 'utf8' },
    );
    expect(built.status, built.stderr).toBe(0);
    expect(built.stdout).toMatch(new RegExp(`model model: ${TM_NAME} \\(layers-model, 3 classes`));
    expect(built.stdout).toMatch(/model v1: mobilenet_v1_0\.75_192_quant \(graph-model, 1000 classes/);
    expect(built.stdout).toMatch(/model onnx1: onnx1 \(onnx, 3 classes; preprocessing from preprocessor_config\.json/);
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
    expect(Object.keys(manifest.files).sort()).toEqual([
      'LICENSE',
      'labels.json',
      'metadata.json',
      'model.json',
      'weights.bin',
    ]);
    expect(readFileSync(join(outDir, 'model/LICENSE'), 'utf8')).toBe('My model, my licence.\n');
    expect(readFileSync(join(outDir, 'sw.js'), 'utf8')).toContain(`"url":"model/weights.bin?v=${manifest.version}"`);
    const { page, close } = await openPage(url);
    try {
      await waitReady(page);
      expect(await page.getByTestId('model-status').getAttribute('data-model')).toBe(TM_NAME);
      const green = await sharp({
        create: { width: 120, height: 90, channels: 3, background: { r: 30, g: 200, b: 50 } },
      })
        .png()
        .toBuffer();
      await classify(page, [{ name: 'green.png', mimeType: 'image/png', buffer: green }]);
      expect((await shownPredictions(page, 'green.png'))[0]!.label).toBe('green');
      await page.getByTestId('view-models').click();
      expect(await page.locator('[data-testid="model-item"][data-model-id="v1"]').getAttribute('data-model-name')).toBe(
        'mobilenet_v1_0.75_192_quant',
      );
      expect(
        await page.locator('[data-testid="model-item"][data-model-id="v1"]').getByTestId('model-delete').count(),
      ).toBe(0);
    } finally {
      await close();
    }
  });

  it('npm start serves what the last build was for, without rebuilding, and says which models', async () => {
    const app = await startApp({ GLIMPSE_MODEL: '', GLIMPSE_MODELS: '' }, ['--out-dir', outDir]);
    const { page, close } = await openPage(app.url);
    try {
      expect(app.output).not.toContain('Building');
      expect(app.output).toContain(`model: ${TM_NAME} (from ${exportDir})`);
      expect(app.output).toContain(
        `shipped model v1: mobilenet_v1_0.75_192_quant (from ${join(modelsDir, 'v1')}; embed.html?model=v1)`,
      );
      await waitReady(page);
      expect(await page.getByTestId('model-status').getAttribute('data-model')).toBe(TM_NAME);
    } finally {
      await close();
      await app.stop();
    }
  });

  it('npm start builds with GLIMPSE_MODELS as it does with GLIMPSE_MODEL', async () => {
    const app = await startApp(
      { GLIMPSE_MODEL: '', GLIMPSE_MODELS: modelsDir },
      ['--out-dir', join(work, 'dist-models')],
      300_000,
    );
    const { page, close } = await openPage(app.url);
    try {
      expect(app.output).toContain('Building');
      expect(app.output).toMatch(/^model: mobilenet-v2-1\.0-224-quant \(from public\/model\)$/m);
      expect(app.output).toContain('shipped model v1: mobilenet_v1_0.75_192_quant');
      await waitReady(page);
      expect(await page.getByTestId('model-status').getAttribute('data-model')).toBe('mobilenet-v2-1.0-224-quant');
      await page.getByTestId('view-models').click();
      expect(await page.locator('[data-testid="model-item"][data-model-id="v1"]').getAttribute('data-model-name')).toBe(
        'mobilenet_v1_0.75_192_quant',
      );
    } finally {
      await close();
      await app.stop();
    }
  }, 360_000);

  it('embeds a shipped model with embed.html?model=<id>, and names it in the ready message', async () => {
    const catalogue = JSON.parse(readFileSync(join(outDir, 'models/catalogue.json'), 'utf8'));
    expect(catalogue).toEqual([
      { id: 'onnx1', name: 'onnx1', classes: 3, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      {
        id: 'v1',
        name: 'mobilenet_v1_0.75_192_quant',
        classes: 1000,
        manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    const host = await startHostPage(url);
    const { page, close } = await openPage(host.url);
    try {
      const replies = await page.evaluate(async (app) => {
        const received: { type: string; id?: string; model?: unknown; predictions?: { index: number }[] }[] = [];
        addEventListener('message', (e) => e.origin === new URL(app).origin && received.push(e.data));
        const frame = document.createElement('iframe');
        frame.src = `${app}embed.html?model=v1`;
        document.body.append(frame);
        while (!received.some((m) => m.type === 'ready')) await new Promise((done) => setTimeout(done, 50));
        const image = await (await fetch('/fixtures/parrot.jpg')).arrayBuffer();
        frame.contentWindow!.postMessage({ glimpse: 1, type: 'classify', id: 'p', image }, new URL(app).origin);
        while (!received.some((m) => m.id === 'p')) await new Promise((done) => setTimeout(done, 50));
        return received;
      }, url);
      expect(replies.find((m) => m.type === 'ready')!.model).toEqual({
        id: 'v1',
        name: 'mobilenet_v1_0.75_192_quant',
        version: expect.any(String),
        classes: 1000,
      });
      expect(replies.find((m) => m.id === 'p')!.predictions![0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
    } finally {
      await close();
      await host.close();
    }
  });

  it('picks a shipped model through embed.js: Glimpse.embed(element, { origin, model })', async () => {
    const host = await startHostPage(url);
    const { page, close } = await openPage(host.url);
    try {
      const result = await page.evaluate(async (app) => {
        const Glimpse = (window as unknown as { Glimpse: typeof import('../../src/embed-helper/glimpse-embed') })
          .Glimpse;
        const refused = await Glimpse.embed(document.getElementById('slot')!, { origin: app, model: '../v1' }).catch(
          (e: { code: string }) => e.code,
        );
        const g = await Glimpse.embed(document.getElementById('slot')!, { origin: app, model: 'v1' });
        const answer = await g.classify(await (await fetch('/fixtures/parrot.jpg')).blob());
        return { refused, model: g.model, top: answer[0]!.index, frames: document.querySelectorAll('iframe').length };
      }, new URL(url).origin);
      expect(result).toEqual({
        refused: 'bad-request',
        model: { id: 'v1', name: 'mobilenet_v1_0.75_192_quant', version: expect.any(String), classes: 1000 },
        top: EXPECTED_TOP1['parrot.jpg'],
        frames: 1,
      });
    } finally {
      await close();
      await host.close();
    }
  });

  it('ships an ONNX model (a Hugging Face folder) that the embed runs on ONNX Runtime with ?model=<id>', async () => {
    expect(
      Object.keys(JSON.parse(readFileSync(join(outDir, 'models/onnx1/manifest.json'), 'utf8')).files).sort(),
    ).toEqual(['labels.json', 'metadata.json', 'model.onnx']);
    const host = await startHostPage(url);
    const { page, close } = await openPage(host.url);
    try {
      const replies = await page.evaluate(async (app) => {
        const received: {
          type: string;
          id?: string;
          model?: unknown;
          backend?: string;
          predictions?: { index: number; label: string }[];
        }[] = [];
        addEventListener('message', (e) => e.origin === new URL(app).origin && received.push(e.data));
        const frame = document.createElement('iframe');
        frame.src = `${app}embed.html?model=onnx1`;
        document.body.append(frame);
        while (!received.some((m) => m.type === 'ready')) await new Promise((done) => setTimeout(done, 50));
        const canvas = new OffscreenCanvas(16, 16);
        const context = canvas.getContext('2d')!;
        context.fillStyle = 'rgb(20, 40, 210)';
        context.fillRect(0, 0, 16, 16);
        const image = await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer();
        frame.contentWindow!.postMessage({ glimpse: 1, type: 'classify', id: 'b', image }, new URL(app).origin);
        while (!received.some((m) => m.id === 'b')) await new Promise((done) => setTimeout(done, 50));
        return received;
      }, url);
      expect(replies.find((m) => m.type === 'ready')!.model).toEqual({
        id: 'onnx1',
        name: 'onnx1',
        version: expect.any(String),
        classes: 3,
      });
      const answer = replies.find((m) => m.id === 'b')!;
      expect(answer.predictions![0]!.label).toBe('blue');
      expect(answer.backend).toBe('onnx-wasm');
    } finally {
      await close();
      await host.close();
    }
  });
});
