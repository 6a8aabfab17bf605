import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { serve } from '../../host/serve';
import { DEFAULT_SETTINGS } from '../../build/deploy-settings';
import { openPage } from '../../harness/browser';
import { classify, FIXTURES, installed, shownPredictions, waitReady } from './app';
import { freePort } from '../../harness/app-server';
import { EXPECTED_TOP1 } from '../helpers/model';

const ROOT = resolve(import.meta.dirname, '../..');
const SHARD = 'model/group1-shard1of1.bin';

/** The built site on its own port, which a test can stop, or replace with another build. */
class Host {
  server: Server | null = null;
  readonly requests: string[] = [];
  /** Response body bytes sent per request, from Content-Length (0 for 304s and HEADs). */
  readonly sent: { url: string; bytes: number }[] = [];
  constructor(
    readonly port: number,
    public dir: string,
  ) {}
  get url() {
    return `http://127.0.0.1:${this.port}/`;
  }
  async start(dir = this.dir) {
    this.dir = dir;
    this.server = await serve({ dir, host: '127.0.0.1', port: this.port, settings: DEFAULT_SETTINGS });
    this.server.on('request', (req, res) => {
      this.requests.push(req.url ?? '');
      // A HEAD response names the file's length but sends no body.
      res.on('finish', () =>
        this.sent.push({
          url: req.url ?? '',
          bytes: req.method === 'HEAD' ? 0 : Number(res.getHeader('content-length') ?? 0),
        }),
      );
    });
  }
  /** Body bytes sent since the `from`th response, for URLs that `match`. */
  bytesSince(from: number, match: (url: string) => boolean = () => true): number {
    return this.sent.slice(from).reduce((sum, r) => sum + (match(r.url) ? r.bytes : 0), 0);
  }
  async stop() {
    const server = this.server!;
    this.server = null;
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

async function expectClassifies(page: Page, name = 'parrot.jpg'): Promise<void> {
  await waitReady(page);
  await classify(page, [resolve(FIXTURES, name)]);
  expect((await shownPredictions(page, name))[0]!.index).toBe(EXPECTED_TOP1[name]);
}

/** Replaces cached responses whose path is a key of `bodies`, keeping their headers. */
async function rewriteCache(page: Page, bodies: Record<string, string | 'garbage-of-same-size'>): Promise<string[]> {
  return page.evaluate(async (bodies) => {
    const rewritten: string[] = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const path = new URL(request.url).pathname;
        const key = Object.keys(bodies).find((k) => path === k);
        if (!key) continue;
        const good = (await cache.match(request))!;
        const body =
          bodies[key] === 'garbage-of-same-size'
            ? new Uint8Array((await good.arrayBuffer()).byteLength).fill(7)
            : bodies[key]!;
        await cache.put(request, new Response(body, { headers: good.headers }));
        rewritten.push(path);
      }
    }
    return rewritten;
  }, bodies);
}

describe('offline PWA', () => {
  let host: Host;
  beforeAll(async () => {
    host = new Host(await freePort(), join(ROOT, 'dist'));
    await host.start();
  });
  afterAll(async () => host.server && (await host.stop()));

  it('is controlled by its service worker after the first visit, and works offline and with the server gone', async () => {
    const { page, context, close } = await openPage(host.url);
    try {
      await installed(page);
      await context.setOffline(true);
      await page.reload();
      await expect.poll(() => page.getByTestId('offline-indicator').isVisible()).toBe(true);
      await expectClassifies(page, 'parrot.jpg');
      await context.setOffline(false);
      await host.stop();
      await page.reload();
      await expectClassifies(page, 'hot_dog.jpg');
    } finally {
      await close();
      if (!host.server) await host.start();
    }
  });

  it('says it is offline from what it observed, where the browser keeps saying online, and clears it when the host answers', async () => {
    // Chromium 150 in a document its service worker served: navigator.onLine stays true with the
    // network down and no online/offline event fires. This browser behaves so at every step.
    const { page, context, close } = await openPage(host.url, {
      init: (p) =>
        p.addInitScript(() => {
          Object.defineProperty(Navigator.prototype, 'onLine', { get: () => true });
          for (const type of ['online', 'offline'])
            addEventListener(type, (e) => e.stopImmediatePropagation(), { capture: true });
        }),
    });
    const indicator = () => page.getByTestId('offline-indicator').isVisible();
    try {
      await installed(page);
      expect(await indicator()).toBe(false);
      await context.setOffline(true);
      await page.reload();
      await expect.poll(indicator).toBe(true);
      await expectClassifies(page, 'parrot.jpg');
      await context.setOffline(false);
      await expect.poll(indicator).toBe(false);
      await host.stop();
      await page.reload();
      await expect.poll(indicator).toBe(true);
      await expectClassifies(page, 'hot_dog.jpg');
      await host.start();
      await expect.poll(indicator).toBe(false);
    } finally {
      await close();
      if (!host.server) await host.start();
    }
  });

  it('downloads the model once on a first visit, the service worker’s offline copy included', async () => {
    const before = host.sent.length;
    const { page, close } = await openPage(host.url);
    try {
      await installed(page);
      await expectClassifies(page, 'parrot.jpg');
      const size = readFileSync(join(host.dir, SHARD)).byteLength;
      const shard = (url: string) => url.startsWith(`/${SHARD}`);
      console.log(
        `first visit: the shard (${size} bytes) asked for ${host.sent.slice(before).filter((r) => shard(r.url)).length} times, ${host.bytesSince(before, shard)} bytes sent`,
      );
      // The page's prefetch downloads it; the worker and the precache revalidate that copy (304s).
      expect(host.bytesSince(before, shard)).toBe(size);
      // Offline, the precache answers the worker's versioned request.
      await page.context().setOffline(true);
      await page.reload();
      await expectClassifies(page, 'cat.png');
    } finally {
      await close();
    }
  });

  it('transfers almost nothing on a second visit', async () => {
    const { page, context, close } = await openPage(host.url);
    try {
      await installed(page);
      const [sentBefore, requests] = [host.sent.length, host.requests.length];
      const second = await context.newPage();
      const warnings: string[] = [];
      second.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
      await second.goto(host.url);
      await expectClassifies(second, 'parrot.jpg');
      // Chromium says an unused preload "was preloaded … but not used within a few seconds from the window's load event".
      await second.waitForTimeout(4000);
      expect(warnings.filter((w) => w.includes('preload'))).toEqual([]);
      const sent = host.bytesSince(sentBefore);
      console.log(
        `second visit: ${host.requests.length - requests} request(s) to the server, ${sent} bytes: ${host.requests.slice(requests).join(' ')}`,
      );
      expect(sent).toBeLessThan(20_000);
      expect(host.requests.slice(requests).filter((r) => !r.startsWith('/sw.js'))).toEqual([]);
    } finally {
      await close();
    }
  });

  it('keeps classifying online, and says offline use is unavailable, when storage is too small for the app', async () => {
    const { page, close } = await openPage(host.url, {
      init: async (p) => {
        const cdp = await p.context().newCDPSession(p);
        await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(host.url).origin, quotaSize: 500_000 });
      },
    });
    try {
      await expectClassifies(page, 'bird.png');
      await expect
        .poll(() => page.getByText(/Offline use is unavailable/).count(), { timeout: 60_000 })
        .toBeGreaterThan(0);
      await classify(page, [resolve(FIXTURES, 'cat.png')]);
      expect((await shownPredictions(page, 'cat.png'))[0]!.index).toBe(EXPECTED_TOP1['cat.png']);
    } finally {
      await close();
    }
  });

  it('repairs a shard corrupted in Cache Storage with one fresh download, and still answers right', async () => {
    const { page, close } = await openPage(host.url);
    try {
      await installed(page);
      expect(await rewriteCache(page, { [`/${SHARD}`]: 'garbage-of-same-size' })).toEqual([`/${SHARD}`]);
      const before = host.requests.filter((r) => r.startsWith(`/${SHARD}`)).length;
      await page.reload();
      await expectClassifies(page, 'cat.png');
      expect(host.requests.filter((r) => r.startsWith(`/${SHARD}`)).length).toBe(before + 1);
      // The repaired copy is back in the cache: it classifies offline too.
      await page.context().setOffline(true);
      await page.reload();
      await expectClassifies(page, 'bird.png');
    } finally {
      await close();
    }
  });

  it('never serves an app shell rewritten in Cache Storage: refetched online, refused offline', async () => {
    const { page, close } = await openPage(host.url);
    try {
      await installed(page);
      const injected = '<!doctype html><title>pwned</title><p id="pwned">pwned</p>';
      expect(await rewriteCache(page, { '/index.html': injected, '/embed.html': injected })).toEqual(
        expect.arrayContaining(['/index.html', '/embed.html']),
      );
      const before = host.requests.length;
      await page.reload();
      await expectClassifies(page, 'cat.png');
      expect(await page.locator('#pwned').count()).toBe(0);
      // The page itself came from the server once more (the navigation asks for `/`).
      expect(host.requests.slice(before).filter((r) => r === '/' || r.startsWith('/index.html'))).toHaveLength(1);
      // The repaired copy is back: offline, the app still starts.
      await page.context().setOffline(true);
      await page.reload();
      await expectClassifies(page, 'bird.png');
      await rewriteCache(page, { '/index.html': injected });
      await page.reload().catch(() => undefined);
      expect(await page.locator('#pwned').count()).toBe(0);
    } finally {
      await close();
    }
  });

  it('catches a shard and model manifest rewritten to agree in Cache Storage, and repairs both', async () => {
    const { page, close } = await openPage(host.url);
    try {
      await installed(page);
      const manifest = JSON.parse(readFileSync(join(host.dir, 'model/manifest.json'), 'utf8'));
      const size = manifest.files['group1-shard1of1.bin'].bytes;
      manifest.files['group1-shard1of1.bin'].sha256 = createHash('sha256')
        .update(new Uint8Array(size).fill(7))
        .digest('hex');
      expect(
        await rewriteCache(page, {
          [`/${SHARD}`]: 'garbage-of-same-size',
          '/model/manifest.json': JSON.stringify(manifest),
        }),
      ).toHaveLength(2);
      const before = host.requests.length;
      await page.reload();
      await expectClassifies(page, 'cat.png');
      const refetched = host.requests.slice(before).filter((r) => r.startsWith('/model/'));
      expect(refetched.filter((r) => r.startsWith('/model/manifest.json')).length).toBeGreaterThan(0);
      expect(refetched.filter((r) => r.startsWith(`/${SHARD}`))).toHaveLength(1);
    } finally {
      await close();
    }
  });

  it('keeps LiteRT for offline use once it ran, and refetches its wasm or the .tflite when rewritten in Cache Storage', async () => {
    const { page, close } = await openPage(`${host.url}?backend=litert`);
    const onLiteRt = async (name: string) => {
      await expectClassifies(page, name);
      expect(
        await page.locator(`[data-testid="predictions"][data-image-name="${name}"]`).getAttribute('data-backend'),
      ).toBe('litert');
    };
    try {
      await installed(page);
      await onLiteRt('parrot.jpg');
      // Kept in the background, once verified: the first photos on LiteRT do not wait for the write.
      const keptPaths = () =>
        page.evaluate(async () =>
          (await (await caches.open('glimpse-litert')).keys()).map((r) => new URL(r.url).pathname),
        );
      await expect.poll(async () => (await keptPaths()).length).toBe(2);
      const kept = await keptPaths();
      const wasm = kept.find((p) => /\/litert_wasm_[\w-]+\.wasm$/.test(p))!;
      expect(kept.sort()).toEqual([wasm, '/model/model.tflite'].sort());
      const keptUrls = async () =>
        page.evaluate(async () =>
          (await (await caches.open('glimpse-litert')).keys()).map(
            (r) => new URL(r.url).pathname + new URL(r.url).search,
          ),
        );
      // Only the app's own requests are kept: not another query string, not a navigation another site can start.
      await page.evaluate(async (wasm) => {
        for (const url of ['/model/model.tflite?x=1', '/model/model.tflite', `${wasm}?x=2`])
          await (await fetch(url)).arrayBuffer();
      }, wasm);
      const other = await page.context().newPage();
      await other.goto(`${host.url}model/model.tflite?evil=1`).catch(() => undefined);
      await other.close();
      expect((await keptUrls()).filter((u) => /x=1|x=2|evil/.test(u))).toEqual([]);

      // A copy of another model version's .tflite (left by an earlier deployment) is let go when this one is kept again.
      await page.evaluate(async () =>
        (await caches.open('glimpse-litert')).put(
          '/model/model.tflite?v=0123456789abcdef',
          new Response('an older model'),
        ),
      );
      // The copies already kept are not written again (megabytes on every visit): marked here, the marks must survive.
      const marked = () =>
        page.evaluate(async () => {
          const cache = await caches.open('glimpse-litert');
          const all = await Promise.all(
            (await cache.keys()).map(
              async (r) => [new URL(r.url).pathname, (await cache.match(r))!.headers.get('x-kept-before')] as const,
            ),
          );
          return all
            .filter(([, mark]) => mark)
            .map(([path]) => path)
            .sort();
        });
      await page.evaluate(async () => {
        const cache = await caches.open('glimpse-litert');
        for (const request of await cache.keys()) {
          if (request.url.includes('0123456789abcdef')) continue;
          const kept = (await cache.match(request))!;
          await cache.put(
            request,
            new Response(await kept.arrayBuffer(), {
              headers: { 'content-type': kept.headers.get('content-type')!, 'x-kept-before': '1' },
            }),
          );
        }
      });
      expect(await marked()).toEqual([wasm, '/model/model.tflite'].sort());
      await host.stop();
      await page.reload();
      await onLiteRt('hot_dog.jpg');
      await expect
        .poll(async () => (await keptUrls()).filter((u) => u.startsWith('/model/model.tflite')))
        .toEqual([
          `/model/model.tflite?v=${JSON.parse(readFileSync(join(host.dir, 'model/manifest.json'), 'utf8')).version}`,
        ]);
      expect(await marked()).toEqual([wasm, '/model/model.tflite'].sort());

      await host.start();
      expect(
        await rewriteCache(page, { [wasm]: 'garbage-of-same-size', '/model/model.tflite': 'garbage-of-same-size' }),
      ).toHaveLength(2);
      const fetched = () =>
        host.requests.filter((r) => r.startsWith(wasm) || r.startsWith('/model/model.tflite')).length;
      const before = fetched();
      await page.reload();
      await onLiteRt('cat.png');
      expect(fetched() - before).toBe(2);
    } finally {
      await close();
      if (!host.server) await host.start();
    }
  });
});

describe('updates', () => {
  const nextBuild = mkdtempSync(join(tmpdir(), 'glimpse-next-'));
  let host: Host;

  beforeAll(async () => {
    const built = spawnSync('npx', ['tsx', 'build/app.ts', '--out-dir', nextBuild], {
      cwd: ROOT,
      env: { ...process.env, GLIMPSE_RELEASE: 'next-release' },
      encoding: 'utf8',
    });
    expect(built.status, built.stderr).toBe(0);
    host = new Host(await freePort(), join(ROOT, 'dist'));
    await host.start();
  }, 120_000);
  afterAll(async () => {
    if (host.server) await host.stop();
    rmSync(nextBuild, { recursive: true, force: true });
  });

  it('prompts when a new version is deployed, reloads into it on accept, and does not download the unchanged model again', async () => {
    const { page, close } = await openPage(host.url);
    try {
      await installed(page);
      expect(await page.getByTestId('release').textContent()).not.toBe('next-release');
      await host.stop();
      await host.start(nextBuild);
      const mark = host.requests.length;
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
      const prompt = page.getByTestId('update-prompt');
      await prompt.waitFor({ timeout: 60_000 });
      // Classifying while the update waits is not disturbed.
      await expectClassifies(page, 'dragonfly.png');
      // Accepting during a batch reloads only once the batch is done: the page notes, as it
      // unloads, how many results it shows.
      await page.evaluate(() =>
        addEventListener('pagehide', () =>
          sessionStorage.setItem(
            'results-at-unload',
            String(document.querySelectorAll('[data-testid="predictions"]').length),
          ),
        ),
      );
      const photos = Object.keys(EXPECTED_TOP1).flatMap((name) =>
        Array.from({ length: 10 }, (_, i) => ({
          name: `${i}-${name}`,
          mimeType: 'image/png',
          buffer: readFileSync(resolve(FIXTURES, name)),
        })),
      );
      await classify(page, photos);
      await prompt.getByTestId('update-reload').click();
      await expect
        .poll(
          () =>
            page
              .getByTestId('release')
              .textContent({ timeout: 1_000 })
              .catch(() => ''),
          { timeout: 60_000 },
        )
        .toBe('next-release');
      expect(await page.evaluate(() => sessionStorage.getItem('results-at-unload'))).toBe(String(photos.length));
      await expectClassifies(page, 'parrot.jpg');
      const updateRequests = host.requests.slice(mark);
      expect(updateRequests.some((r) => r.startsWith('/assets/'))).toBe(true);
      expect(updateRequests.filter((r) => r.startsWith('/model/') && !r.startsWith('/model/manifest.json'))).toEqual(
        [],
      );
      expect(readFileSync(join(nextBuild, 'model/manifest.json'), 'utf8')).toBe(
        readFileSync(join(ROOT, 'dist/model/manifest.json'), 'utf8'),
      );
    } finally {
      await close();
    }
  });
});
