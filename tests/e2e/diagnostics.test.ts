import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, NO_GPU_BACKENDS, shownPredictions, waitSettled } from './app';

const baseUrl = inject('baseUrl');

describe('Diagnostics panel', () => {
  it('shows what ran and how fast, from local measurements, and exports a report with no image, name or label', async () => {
    const { page, close } = await openPage(baseUrl);
    try {
      await waitSettled(page);
      const photo = (name: string) => ({ name, mimeType: 'image/png', buffer: readFileSync(resolve(FIXTURES, name)) });
      await classify(page, [
        photo('parrot.jpg'),
        photo('cat.png'),
        { name: 'secret-holiday.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') },
      ]);
      await shownPredictions(page, 'cat.png');
      await expect.poll(() => page.getByTestId('image-error').count()).toBe(1);
      const panel = page.getByTestId('diagnostics');
      await panel.locator('summary').click();
      await expect.poll(() => panel.getByTestId('diag-probes').innerText()).toMatch(/webgpu: (software|unavailable)/);
      expect(NO_GPU_BACKENDS).toContain(await panel.getByTestId('diag-backend').getAttribute('data-backend'));
      expect(await panel.getByTestId('diag-classifications').innerText()).toBe('2');
      expect(await panel.getByTestId('diag-errors').innerText()).toBe('NotAnImageError: 1');
      expect(await panel.getByTestId('diag-device').innerText()).toMatch(/WebAssembly SIMD \/ threads: yes \/ no/);
      expect(await panel.innerText()).toMatch(/Nothing is sent anywhere/);

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        panel.getByTestId('diagnostics-download').click(),
      ]);
      const text = await readFile((await download.path())!, 'utf8');
      const report = JSON.parse(text);
      expect(report.model).toMatchObject({ name: 'mobilenet-v2-1.0-224-quant', classes: 1000 });
      expect(report.backend).toMatchObject({
        backend: expect.stringMatching(/^(wasm|litert)$/),
        reason: expect.stringMatching(/no-gpu|measuring|measured/),
      });
      expect(report.worker.wasm).toEqual({ simd: true, threads: false });
      expect(report.figures.classifications).toBe(2);
      expect(report.figures.errors).toEqual({ NotAnImageError: 1 });
      expect(report.figures.workerMs.p50).toBeGreaterThan(0);
      expect(report.figures.workerMs.histogram.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(2);
      // tfjs holds the model's weights as tensors; once LiteRT runs it, tfjs's copy is freed.
      if (report.backend.backend === 'litert') expect(report.figures.memory.tensors).toBe(0);
      else expect(report.figures.memory.tensors).toBeGreaterThan(0);
      // Nothing the user classified: no file name, no label.
      for (const secret of ['parrot', 'cat.png', 'secret-holiday', 'macaw', 'Egyptian'])
        expect(text).not.toContain(secret);
    } finally {
      await close();
    }
  });
});
