import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { freePort } from '../../harness/app-server';
import { startHostPage } from './host-page';
import { NO_GPU_BACKENDS } from './app';
import { serve } from '../../host/serve';
import { EXPECTED_TOP1 } from '../helpers/model';

const appUrl = inject('baseUrl');
const appOrigin = new URL(appUrl).origin;

interface Reply {
  type: string;
  id?: string;
  code?: string;
  predictions?: { index: number }[];
  model?: { name: string; version: string; classes: number };
}

/** In the host page: an iframe on embed.html and every message it sends, kept in window.received. */
async function frameWithRawProtocol(page: Page, app: string): Promise<void> {
  await page.evaluate((app) => {
    const w = window as unknown as { received: unknown[] };
    w.received = [];
    window.addEventListener('message', (event) => {
      if (event.origin === new URL(app).origin) w.received.push(event.data);
    });
    const frame = document.createElement('iframe');
    frame.id = 'glimpse';
    frame.src = `${app}embed.html`;
    document.body.append(frame);
  }, app);
}

/** A host page at `hostUrl` with embed.html of `app` in a frame that has announced `ready`. */
async function readyFrame(hostUrl: string, app = appUrl): Promise<{ page: Page; close: () => Promise<void> }> {
  const { page, close } = await openPage(hostUrl);
  await frameWithRawProtocol(page, app);
  await expect.poll(async () => (await received(page)).some((m) => m.type === 'ready'), { timeout: 60_000 }).toBe(true);
  return { page, close };
}

const received = (page: Page) => page.evaluate(() => (window as unknown as { received: Reply[] }).received);

/** Posts classify requests from the host page; `image` names a fixture (fetched from the host's origin) or 'random'. */
async function post(
  page: Page,
  requests: { id: string; image: string; as?: 'blob' | 'buffer' }[],
  app = appOrigin,
): Promise<void> {
  await page.evaluate(
    async ({ requests, app }) => {
      const frame = document.getElementById('glimpse') as HTMLIFrameElement;
      for (const { id, image, as } of requests) {
        const bytes =
          image === 'random'
            ? crypto.getRandomValues(new Uint8Array(2048)).buffer
            : await (await fetch(`/fixtures/${image}`)).arrayBuffer();
        frame.contentWindow!.postMessage(
          { glimpse: 1, type: 'classify', id, image: as === 'blob' ? new Blob([bytes]) : bytes },
          app,
        );
      }
    },
    { requests, app },
  );
}

describe('embedding on another origin (127.0.0.2 hosts, 127.0.0.1 serves Glimpse)', () => {
  let host: Awaited<ReturnType<typeof startHostPage>>;
  beforeAll(async () => {
    host = await startHostPage(appUrl);
  });
  afterAll(() => host.close());

  it('runs examples/host.html against this Glimpse, wherever it is served (?glimpse=)', async () => {
    const { page, close } = await openPage(host.url);
    try {
      await page.goto(`${host.url}example.html?glimpse=${encodeURIComponent(appOrigin)}`);
      await expect
        .poll(() => page.locator('#out').innerText(), { timeout: 60_000 })
        .toMatch(/^Ready: mobilenet-v2-1.0-224-quant \(1000 classes\)/);
      await page.locator('#photo').setInputFiles(resolve(import.meta.dirname, '../fixtures/parrot.jpg'));
      await expect.poll(() => page.locator('#out').innerText(), { timeout: 60_000 }).toMatch(/^macaw: \d/);
    } finally {
      await close();
    }
  });

  it('classifies the coral photos through embed.js', async () => {
    const { page, close } = await openPage(host.url);
    try {
      const result = await page.evaluate(
        async ({ app, names }) => {
          const g = await (
            window as unknown as { Glimpse: typeof import('../../src/embed-helper/glimpse-embed') }
          ).Glimpse.embed(document.getElementById('slot')!, { origin: app });
          const out: Record<string, number[]> = {};
          const start = performance.now();
          for (const name of names) {
            const blob = await (await fetch(`/fixtures/${name}`)).blob();
            out[name] = (await g.classify(blob)).map((p) => p.index);
          }
          return { out, model: g.model, backend: g.backend, msPerImage: (performance.now() - start) / names.length };
        },
        { app: appOrigin, names: Object.keys(EXPECTED_TOP1) },
      );
      expect(result.model).toEqual({
        id: 'builtin',
        name: 'mobilenet-v2-1.0-224-quant',
        classes: 1000,
        version: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      expect(NO_GPU_BACKENDS).toContain(result.backend);
      for (const [name, top1] of Object.entries(EXPECTED_TOP1)) expect(result.out[name]![0], name).toBe(top1);
      console.log(
        `embed.js round trip: ${result.msPerImage.toFixed(0)} ms per image (fetch, postMessage, decode, classify, reply)`,
      );
    } finally {
      await close();
    }
  });

  it('says whether each answer is sure, at the minimum confidence classify() is given', async () => {
    const { page, close } = await openPage(host.url);
    try {
      const answers = await page.evaluate(async (app) => {
        const g = await (
          window as unknown as { Glimpse: typeof import('../../src/embed-helper/glimpse-embed') }
        ).Glimpse.embed(document.getElementById('slot')!, { origin: app, minConfidence: 0.999999 });
        const blob = await (await fetch('/fixtures/cat.png')).blob();
        const strict = await g.classify(blob);
        const lenient = await g.classify(blob, { minConfidence: 0.01 });
        return {
          strict: { sure: strict.sure, top: strict[0]!.probability, length: strict.length },
          lenient: { sure: lenient.sure, top: lenient[0]!.probability },
        };
      }, appOrigin);
      expect(answers.strict).toEqual({ sure: false, top: answers.lenient.top, length: 5 });
      expect(answers.strict.top).toBeLessThan(0.999999);
      expect(answers.lenient.sure).toBe(true);
    } finally {
      await close();
    }
  });

  it('speaks the raw protocol: ready, results, bad-image then recovery, status', async () => {
    const { page, close } = await readyFrame(host.url);
    try {
      await post(page, [
        { id: 'parrot', image: 'parrot.jpg' },
        { id: 'noise', image: 'random' },
        { id: 'hotdog', image: 'hot_dog.jpg', as: 'blob' },
      ]);
      await expect.poll(async () => (await received(page)).filter((m) => m.id).length, { timeout: 60_000 }).toBe(3);
      const replies = (await received(page)).filter((m) => m.id);
      expect(replies.map((m) => [m.id, m.type, m.code])).toEqual([
        ['parrot', 'result', undefined],
        ['noise', 'error', 'bad-image'],
        ['hotdog', 'result', undefined],
      ]);
      expect(replies[0]!.predictions![0]!.index).toBe(EXPECTED_TOP1['parrot.jpg']);
      expect(replies[2]!.predictions![0]!.index).toBe(EXPECTED_TOP1['hot_dog.jpg']);

      const readyBefore = (await received(page)).filter((m) => m.type === 'ready').length;
      await page.evaluate(
        (app) =>
          (document.getElementById('glimpse') as HTMLIFrameElement).contentWindow!.postMessage(
            { glimpse: 1, type: 'status' },
            app,
          ),
        appOrigin,
      );
      await expect
        .poll(async () => (await received(page)).filter((m) => m.type === 'ready').length)
        .toBe(readyBefore + 1);
    } finally {
      await close();
    }
  });

  it('answers a flood of 100 requests each exactly once: in order, or busy', async () => {
    const { page, close } = await readyFrame(host.url);
    try {
      await post(
        page,
        Array.from({ length: 100 }, (_, i) => ({
          id: `f${String(i).padStart(3, '0')}`,
          image: 'cat.png',
          as: 'blob' as const,
        })),
      );
      await expect.poll(async () => (await received(page)).filter((m) => m.id).length, { timeout: 120_000 }).toBe(100);
      const replies = (await received(page)).filter((m) => m.id);
      expect(new Set(replies.map((m) => m.id)).size).toBe(100);
      const results = replies.filter((m) => m.type === 'result').map((m) => m.id!);
      expect(results).toEqual([...results].sort());
      expect(results.length).toBeGreaterThan(0);
      expect(replies.filter((m) => m.type === 'error').every((m) => m.code === 'busy')).toBe(true);
    } finally {
      await close();
    }
  });

  it('checks the size of an ImageBitmap as it checks a file', async () => {
    const { page, close } = await readyFrame(host.url);
    try {
      await page.evaluate(async (app) => {
        const frame = document.getElementById('glimpse') as HTMLIFrameElement;
        for (const [id, width, height] of [
          ['wide', 16_384, 1],
          ['huge', 16_385, 16],
          ['fine', 300, 200],
        ] as const) {
          const image = await createImageBitmap(new ImageData(width, height));
          frame.contentWindow!.postMessage({ glimpse: 1, type: 'classify', id, image }, app, [image]);
        }
      }, appOrigin);
      await expect.poll(async () => (await received(page)).filter((m) => m.id).length, { timeout: 60_000 }).toBe(3);
      const replies = (await received(page)).filter((m) => m.id);
      expect(replies.map((m) => [m.id, m.type, m.code])).toEqual([
        ['wide', 'error', 'bad-image'],
        ['huge', 'error', 'too-large'],
        ['fine', 'result', undefined],
      ]);
    } finally {
      await close();
    }
  });

  it("answers every message sent once the frame's first script runs, before its app code runs too", async () => {
    const { page, close } = await openPage(host.url);
    try {
      await page.evaluate(async (app) => {
        const w = window as unknown as { received: Reply[]; sentAt: number[] };
        w.received = [];
        w.sentAt = [];
        addEventListener('message', (event) => event.origin === new URL(app).origin && w.received.push(event.data));
        const frame = document.createElement('iframe');
        frame.src = `${app}embed.html`;
        document.body.append(frame);
        const start = performance.now();
        while (performance.now() - start < 1_500) {
          w.sentAt.push(performance.timeOrigin + performance.now());
          frame.contentWindow!.postMessage(
            { glimpse: 1, type: 'classify', id: `early-${w.sentAt.length - 1}`, image: 'not an image' },
            new URL(app).origin,
          );
          await new Promise((done) => setTimeout(done, 2));
        }
      }, appUrl);
      const frame = page.frames().find((f) => f.url().endsWith('/embed.html'))!;
      // Messages sent before the frame's document exists are the browser's to drop; from the
      // moment its first script runs, nothing may be lost, though the app's own code (a far
      // larger download) is not running yet.
      const timing = await frame.evaluate(() => {
        const mark = (name: string) => performance.timeOrigin + performance.getEntriesByName(name)[0]!.startTime;
        return { listening: mark('glimpse:early-listening'), app: mark('glimpse:bridge-listening') };
      });
      const sentAt = await page.evaluate(() => (window as unknown as { sentAt: number[] }).sentAt);
      const due = sentAt.flatMap((t, i) => (t > timing.listening ? [`early-${i}`] : []));
      expect(
        sentAt.filter((t) => t > timing.listening && t < timing.app).length,
        'messages sent before the app code listened',
      ).toBeGreaterThan(0);
      await expect
        .poll(async () => (await received(page)).filter((m) => due.includes(m.id!)).length, { timeout: 30_000 })
        .toBe(due.length);
      expect(
        (await received(page)).filter((m) => m.id).every((m) => m.type === 'error' && m.code === 'bad-request'),
      ).toBe(true);
    } finally {
      await close();
    }
  });

  it('embed.js settles every request when the frame goes away, and leaves nothing behind on a timeout', async () => {
    const { page, close } = await openPage(host.url);
    try {
      const outcome = await page.evaluate(
        async ({ app, host }) => {
          const { Glimpse } = window as unknown as { Glimpse: typeof import('../../src/embed-helper/glimpse-embed') };
          let messageListeners = 0;
          const add = window.addEventListener.bind(window);
          const remove = window.removeEventListener.bind(window);
          window.addEventListener = ((type: string, ...rest: [never]) => (
            type === 'message' && messageListeners++,
            add(type, ...rest)
          )) as typeof window.addEventListener;
          window.removeEventListener = ((type: string, ...rest: [never]) => (
            type === 'message' && messageListeners--,
            remove(type, ...rest)
          )) as typeof window.removeEventListener;

          const slot = document.getElementById('slot')!;
          const g = await Glimpse.embed(slot, { origin: app });
          const image = await (await fetch('/fixtures/cat.png')).blob();
          const loaded = new Promise((done) => g.frame.addEventListener('load', done, { once: true }));
          g.frame.src = 'about:blank';
          await loaded;
          const afterNavigation = await g.classify(image).then(
            () => 'resolved',
            (e: { code: string }) => e.code,
          );
          g.destroy();
          const listenersAfterDestroy = messageListeners;

          // This host page has no /embed.html, so nothing there ever becomes ready.
          const timedOut = await Glimpse.embed(slot, { origin: host, timeoutMs: 1_000 }).then(
            () => 'resolved',
            (e: { code: string }) => e.code,
          );
          return {
            afterNavigation,
            listenersAfterDestroy,
            timedOut,
            framesLeft: slot.querySelectorAll('iframe').length,
            listenersLeft: messageListeners,
          };
        },
        { app: appOrigin, host: new URL(host.url).origin },
      );
      expect(outcome).toEqual({
        afterNavigation: 'model-unavailable',
        listenersAfterDestroy: 0,
        timedOut: 'timeout',
        framesLeft: 0,
        listenersLeft: 0,
      });
    } finally {
      await close();
    }
  });

  it('ignores a message from a window that is not its parent', async () => {
    const { page, close } = await readyFrame(host.url);
    try {
      await page.evaluate(() => {
        const sibling = document.createElement('iframe');
        sibling.src = '/blank.html';
        document.body.append(sibling);
        return new Promise((done) => sibling.addEventListener('load', done));
      });
      const sibling = page.frames().find((f) => f.url().endsWith('/blank.html'))!;
      await sibling.evaluate(async (app) => {
        const bytes = await (await fetch('/fixtures/parrot.jpg')).arrayBuffer();
        const glimpse = (parent.document.getElementById('glimpse') as HTMLIFrameElement).contentWindow!;
        glimpse.postMessage({ glimpse: 1, type: 'classify', id: 'from-sibling', image: bytes }, app);
      }, appOrigin);
      // Requests are answered in order, so once the parent's later request is answered, the sibling's would have been.
      await post(page, [{ id: 'from-parent', image: 'parrot.jpg' }]);
      await expect
        .poll(async () => (await received(page)).some((m) => m.id === 'from-parent'), { timeout: 60_000 })
        .toBe(true);
      expect((await received(page)).some((m) => m.id === 'from-sibling')).toBe(false);
    } finally {
      await close();
    }
  });

  it('lets /embed.html be framed but never the full app', async () => {
    const { page, close } = await openPage(host.url);
    try {
      await page.evaluate((app) => {
        for (const [id, path] of [
          ['full', ''],
          ['embed', 'embed.html'],
        ]) {
          const frame = document.createElement('iframe');
          frame.id = id!;
          frame.src = `${app}${path}`;
          document.body.append(frame);
        }
      }, appUrl);
      const embedFrame = page.frameLocator('#embed');
      await expect
        .poll(() => embedFrame.getByTestId('model-status').getAttribute('data-state'), { timeout: 60_000 })
        .toBe('ready');
      await expect.poll(() => page.frames().map((f) => f.url())).toContain('chrome-error://chromewebdata/');
      expect(await page.frameLocator('#full').getByTestId('model-status').count()).toBe(0);
    } finally {
      await close();
    }
  });
});

describe('with an allow-list set at build time (GLIMPSE_EMBED_ORIGINS)', () => {
  let server: Server;
  let app: string;
  let allowed: Awaited<ReturnType<typeof startHostPage>>;
  let stranger: Awaited<ReturnType<typeof startHostPage>>;
  const outDir = mkdtempSync(join(tmpdir(), 'glimpse-allowlist-'));

  beforeAll(async () => {
    const allowedPort = await freePort('127.0.0.2');
    const origins = `http://127.0.0.2:${allowedPort}`;
    const built = spawnSync('npx', ['tsx', 'build/app.ts', '--out-dir', outDir], {
      cwd: resolve(import.meta.dirname, '../..'),
      env: { ...process.env, GLIMPSE_EMBED_ORIGINS: origins },
      encoding: 'utf8',
    });
    expect(built.status, built.stderr).toBe(0);
    const port = await freePort();
    server = await serve({
      dir: outDir,
      host: '127.0.0.1',
      port,
      settings: { embedOrigins: [origins], isolate: false },
    });
    app = `http://127.0.0.1:${port}/`;
    allowed = await startHostPage(app, '127.0.0.2', allowedPort);
    stranger = await startHostPage(app, '127.0.0.3');
  }, 120_000);
  afterAll(async () => {
    await Promise.all([allowed.close(), stranger.close(), new Promise((done) => server.close(done))]);
    rmSync(outDir, { recursive: true, force: true });
  });

  it('serves frame-ancestors with exactly the allowed origin', async () => {
    const csp = (await fetch(`${app}embed.html`)).headers.get('content-security-policy');
    expect(csp).toMatch(new RegExp(`frame-ancestors ${new URL(allowed.url).origin}$`));
  });

  it('answers the allowed origin', async () => {
    const { page, close } = await readyFrame(allowed.url, app);
    try {
      await post(page, [{ id: 'ok', image: 'hot_dog.jpg' }], new URL(app).origin);
      await expect
        .poll(async () => (await received(page)).find((m) => m.id === 'ok')?.type, { timeout: 60_000 })
        .toBe('result');
    } finally {
      await close();
    }
  });

  it('gives another origin no answer, even when a misconfigured host lets it frame the page', async () => {
    const { page, close } = await openPage(stranger.url, {
      // Strip the header so that only the frame's own origin check stands in the way.
      init: (p) =>
        p.route('**/embed.html', async (route) => {
          const response = await route.fetch();
          const headers = { ...response.headers() };
          delete headers['content-security-policy'];
          await route.fulfill({ response, headers });
        }),
    });
    try {
      await frameWithRawProtocol(page, app);
      const frame = page.frameLocator('#glimpse');
      await expect
        .poll(() => frame.getByTestId('model-status').getAttribute('data-state'), { timeout: 60_000 })
        .toBe('ready');
      await page.evaluate(
        (origin) =>
          (document.getElementById('glimpse') as HTMLIFrameElement).contentWindow!.postMessage(
            { glimpse: 1, type: 'status' },
            origin,
          ),
        new URL(app).origin,
      );
      await post(page, [{ id: 'stranger', image: 'hot_dog.jpg' }], new URL(app).origin);
      // Silence proven by order, not by a wait: one window's messages to another arrive in order, and
      // a frame that let them through would answer a malformed request (and status) at once. Once the
      // frame has seen a later marker, and said so on the channel its answers take, they would be in.
      const embed = page.frames().find((f) => f.url().startsWith(`${app}embed.html`))!;
      await embed.evaluate(() =>
        addEventListener('message', (e) => e.data === 'marker' && parent.postMessage('marker seen', '*')),
      );
      await page.evaluate((origin) => {
        const frame = (document.getElementById('glimpse') as HTMLIFrameElement).contentWindow!;
        frame.postMessage({ glimpse: 1, type: 'classify', id: 'malformed', image: 42 }, origin);
        frame.postMessage('marker', origin);
      }, new URL(app).origin);
      await expect.poll(async () => (await received(page)).length).toBeGreaterThan(0);
      expect(await received(page)).toEqual(['marker seen']);
    } finally {
      await close();
    }
  });
});
