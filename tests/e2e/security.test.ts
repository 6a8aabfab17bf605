import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Request } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, shownPredictions, waitReady, waitSettled } from './app';
import { EXPECTED_TOP1 } from '../helpers/model';

const baseUrl = inject('baseUrl');

describe('content security policy', () => {
  it.each(['wasm', 'litert', 'webgl', 'cpu'])(
    'raises no violation over a full classify flow on %s',
    async (backend) => {
      const console: string[] = [];
      const { page, close } = await openPage(`${baseUrl}?backend=${backend}`, {
        init: async (p) => {
          p.on('console', (m) => console.push(m.text()));
          p.on('pageerror', (e) => console.push(e.message));
          await p.addInitScript(() => {
            const w = window as unknown as { violations: string[] };
            w.violations = [];
            document.addEventListener('securitypolicyviolation', (e) =>
              w.violations.push(`${e.violatedDirective} ${e.blockedURI}`),
            );
          });
        },
      });
      try {
        expect(await waitReady(page, 120_000)).toBe(backend);
        await classify(page, [resolve(FIXTURES, 'parrot.jpg')]);
        expect((await shownPredictions(page, 'parrot.jpg', 120_000))[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
        expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([]);
        expect(console.filter((line) => /Content Security Policy|Refused to/i.test(line))).toEqual([]);
      } finally {
        await close();
      }
    },
  );
});

describe('privacy', () => {
  it('makes no request at all once ready and stored, online or offline, and no image byte ever leaves', async () => {
    const requests: Request[] = [];
    const { page, context, close } = await openPage(baseUrl, {
      init: async (p) => void p.context().on('request', (r) => requests.push(r)),
    });
    try {
      await waitReady(page);
      // The service worker stores the offline copy just after ready: that traffic is the app's own files.
      await page.getByTestId('storage-panel').locator('summary').click();
      await expect
        .poll(() => page.getByTestId('storage-panel').innerText(), { timeout: 60_000 })
        .toMatch(/works without a network/);
      // So does the backend trial (LiteRT's files): once it settled, nothing more is fetched.
      await waitSettled(page);
      const before = requests.length;
      const marker = `glimpse-privacy-marker-${Date.now()}`;
      const marked = (name: string) => ({
        name: `marked-${name}`,
        mimeType: 'image/jpeg',
        buffer: Buffer.concat([readFileSync(resolve(FIXTURES, name)), Buffer.from(marker)]),
      });
      await classify(page, [marked('parrot.jpg'), marked('hot_dog.jpg')]);
      expect((await shownPredictions(page, 'marked-hot_dog.jpg'))[0]!.index).toBe(EXPECTED_TOP1['hot_dog.jpg']);
      await context.setOffline(true);
      await classify(page, [marked('parrot.jpg')]);
      expect((await shownPredictions(page, 'marked-parrot.jpg'))[0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);

      const after = requests.slice(before).filter((r) => !/^(blob|data):/.test(r.url()));
      expect(after.map((r) => r.url())).toEqual([]);
      for (const request of requests) {
        expect(request.url()).not.toContain(marker);
        expect(request.postDataBuffer()?.includes(marker) ?? false).toBe(false);
        expect(
          new URL(request.url()).origin === new URL(baseUrl).origin || /^(blob|data):/.test(request.url()),
          request.url(),
        ).toBe(true);
      }
    } finally {
      await close();
    }
  });
});
