import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { launch } from '../harness/browser';
import { percentile } from '../src/core/stats';

const FIXTURES = resolve(import.meta.dirname, '../tests/fixtures');
const PHOTOS = ['parrot.jpg', 'hot_dog.jpg', 'cat.png', 'dragonfly.png', 'bird.png'];

const PHOTO_DIR = join(tmpdir(), 'glimpse-bench-photos');

/**
 * Paths of `n` real photos, cycled under distinct names. Files on disk, not buffers:
 * Playwright base64-decodes buffers on the page's main thread, a long task of its own.
 */
export function photos(n: number): string[] {
  mkdirSync(PHOTO_DIR, { recursive: true });
  return Array.from({ length: n }, (_, i) => {
    const file = PHOTOS[i % PHOTOS.length]!;
    const path = join(PHOTO_DIR, `${i}-${file}`);
    if (!existsSync(path)) copyFileSync(join(FIXTURES, file), path);
    return path;
  });
}

export interface StartTiming {
  /** ms from navigation start to each phase. */
  jsStarted: number;
  modelDownloaded: number;
  ready: number;
  warmupMs: number;
  firstResult: number;
  bytes: { js: number; wasm: number; model: number; other: number };
  longTasksOver50: number;
}

export interface Latency {
  backend: string;
  /** Photos given one at a time, the page idle in between: each page's own ms per photo. */
  p50: number;
  p95: number;
  n: number;
  /** The same photos chosen at once: Glimpse decodes the next photo while the worker runs one, the peers one after another. */
  batchP50: number;
}

function kindOf(url: string): keyof StartTiming['bytes'] {
  if (/\/model\//.test(url)) return 'model';
  if (url.endsWith('.wasm')) return 'wasm';
  if (url.endsWith('.js')) return 'js';
  return 'other';
}

/** Records long tasks from the first instant of the page. */
export async function observeLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: { start: number; duration: number }[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

export const longTasks = (page: Page) =>
  page.evaluate(() => (window as unknown as { longTasks: { start: number; duration: number }[] }).longTasks);

/** Main-thread tasks over 50 ms that started at or after `from` (page time). */
export const longTasksSince = async (page: Page, from: number) =>
  (await longTasks(page)).filter((t) => t.start >= from && t.duration > 50).length;

/** Ready, and done measuring backends: what a page that settled runs on. */
export const SETTLED = '[data-testid="model-status"][data-state="ready"]:not([data-reason="measuring"])';

/**
 * Settled, and done installing for offline use where the page is an installable app (Glimpse
 * registers its service worker once the backend is chosen and the photos answered): its 7 MB
 * precache is a first visit's one-time background work, not the steady state measured here.
 */
async function settled(page: Page): Promise<void> {
  await page.locator(SETTLED).waitFor({ timeout: 180_000 });
  await page.evaluate(() =>
    document.querySelector('link[rel="manifest"]') ? navigator.serviceWorker.ready.then(() => undefined) : undefined,
  );
}

async function waitForResults(page: Page, count: number, timeout = 120_000): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="predictions"]').length >= n, count, {
    timeout,
    polling: 50,
  });
}

/** A network link a page is measured over: download speed and round-trip time. */
export interface Link {
  mbps: number;
  rttMs: number;
}

/** Navigation to the first result for one image given as soon as the file input exists; over `link` where given (loopback otherwise). */
export async function startTiming(context: BrowserContext, url: string, link?: Link): Promise<StartTiming> {
  const page = await context.newPage();
  await observeLongTasks(page);
  if (link) {
    const devtools = await context.newCDPSession(page);
    await devtools.send('Network.enable');
    await devtools.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: link.rttMs,
      downloadThroughput: (link.mbps * 1e6) / 8,
      uploadThroughput: (link.mbps * 1e6) / 8,
    });
  }
  const finished: Request[] = [];
  page.on('requestfinished', (request) => void finished.push(request));
  await page.goto(url, { waitUntil: 'commit' });
  await page.getByTestId('image-input').waitFor({ state: 'attached' });
  await page.getByTestId('image-input').setInputFiles(photos(1));
  await waitForResults(page, 1);
  // Bytes of the requests that started before the first result, by the page's own clock: what
  // finished events and size lookups arrive late on a busy machine still counts, and what
  // started after (the service worker's copy, a backend trial) does not.
  const firstResultAt = await page.evaluate(
    () => performance.timeOrigin + performance.getEntriesByName('glimpse:first-result')[0]!.startTime,
  );
  const bytes = { js: 0, wasm: 0, model: 0, other: 0 };
  for (const request of finished.filter((r) => r.timing().startTime < firstResultAt))
    bytes[kindOf(new URL(request.url()).pathname)] += (await request.sizes()).responseBodySize;
  const marks = Object.fromEntries(
    (await page.evaluate(() => performance.getEntriesByType('mark').map((m) => [m.name, m.startTime] as const))).map(
      ([n, t]) => [n.replace('glimpse:', ''), t],
    ),
  ) as Record<string, number>;
  const tasks = await longTasks(page);
  await page.close();
  return {
    jsStarted: marks.start ?? NaN,
    modelDownloaded: marks['model-downloaded'] ?? NaN,
    ready: marks.ready ?? NaN,
    warmupMs: (marks.ready ?? NaN) - (marks.warmup ?? NaN),
    firstResult: marks['first-result'] ?? NaN,
    bytes,
    longTasksOver50: tasks.filter((t) => t.start < (marks['first-result'] ?? Infinity) && t.duration > 50).length,
  };
}

/**
 * A user takes longer than this between two photos. Without it, the next photo would land
 * on the previous one's rendering (its preview's decode and paint), which no user meets.
 */
const BETWEEN_PHOTOS_MS = 250;

export interface UserWait {
  /** Input `change` → that photo's predictions in the DOM, measured in the page, one photo at a time. */
  singleP50: number;
  /**
   * The photo chosen (the files handed to the input) → its answer visible, measured from outside the page
   * (the driver's clock, Playwright's visibility check), one photo at a time: what the page's own clock
   * cannot see, such as the time before its `change` handler runs or a list laid out but not yet visible.
   */
  outsideP50: number;
  /** The same for a batch chosen at once: `change` → the last photo's predictions. */
  batchMs: number;
  n: number;
}

/**
 * What a user waits, timed by the page itself: from the file input's `change` event to the
 * predictions in the DOM (a MutationObserver notes when each list appears), after the app settled.
 */
export async function userWait(url: string, images: number): Promise<UserWait> {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { changeAt: number; shownAt: Record<string, number> };
      w.shownAt = {};
      document.addEventListener('change', () => ((w.changeAt = performance.now()), (w.shownAt = {})), true);
      new MutationObserver(() => {
        for (const list of document.querySelectorAll('[data-testid="predictions"]')) {
          const name = list.getAttribute('data-image-name') ?? '';
          w.shownAt[name] ??= performance.now();
        }
      }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-image-name'] });
    });
    await page.goto(url);
    await page.locator(SETTLED).waitFor({ timeout: 180_000 });
    await page.getByTestId('image-input').setInputFiles(photos(1));
    await waitForResults(page, 1);
    // Let background work (the service worker's install) settle, as a user's first look would.
    await settled(page);
    await page.waitForTimeout(2_000);
    const waited = async (names: string[]) => {
      await page.waitForFunction(
        (all) => all.every((n) => (window as unknown as { shownAt: Record<string, number> }).shownAt[n] !== undefined),
        names,
        { timeout: 120_000, polling: 20 },
      );
      return page.evaluate((all) => {
        const w = window as unknown as { changeAt: number; shownAt: Record<string, number> };
        return Math.max(...all.map((n) => w.shownAt[n]!)) - w.changeAt;
      }, names);
    };
    const single: number[] = [];
    const outside: number[] = [];
    for (const path of photos(images)) {
      await page.waitForTimeout(BETWEEN_PHOTOS_MS);
      const chosen = performance.now();
      await page.getByTestId('image-input').setInputFiles(path);
      await page
        .locator(`[data-testid="predictions"][data-image-name="${basename(path)}"] [data-testid="prediction"]`)
        .first()
        .waitFor({ state: 'visible', timeout: 120_000 });
      outside.push(performance.now() - chosen);
      single.push(await waited([basename(path)]));
    }
    await page.waitForTimeout(BETWEEN_PHOTOS_MS);
    const batch = photos(images);
    await page.getByTestId('image-input').setInputFiles(batch);
    const batchMs = await waited(batch.map((p) => basename(p)));
    return { singleP50: percentile(single, 0.5), outsideP50: percentile(outside, 0.5), batchMs, n: images };
  } finally {
    await browser.close();
  }
}

/**
 * Warm per-image latency (the page's own ms per image) on a backend, after the model is
 * ready: photos one at a time, as every peer page classifies them, then the same photos
 * chosen at once.
 */
export async function warmLatency(url: string, backend: string | null, images: number): Promise<Latency | null> {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await page.goto(backend ? `${url}?backend=${backend}` : url);
    const status = page.locator(SETTLED);
    await status.waitFor({ timeout: 180_000 });
    const ran = (await status.getAttribute('data-backend')) ?? '';
    if (backend && ran !== backend) return null;
    const input = page.getByTestId('image-input');
    // One image first, so lazy compilation is not billed to the timed ones.
    await input.setInputFiles(photos(1));
    await waitForResults(page, 1);
    await settled(page);
    const single: number[] = [];
    for (const path of photos(images)) {
      await page.waitForTimeout(BETWEEN_PHOTOS_MS);
      await input.setInputFiles(path);
      const result = page.locator(`[data-testid="predictions"][data-image-name="${basename(path)}"]`);
      await result.waitFor({ state: 'attached', timeout: 120_000 });
      single.push(Number(await result.getAttribute('data-ms')));
    }
    await page.waitForTimeout(BETWEEN_PHOTOS_MS);
    await input.setInputFiles(photos(images));
    await waitForResults(page, images);
    const batch = await page
      .getByTestId('predictions')
      .evaluateAll((lists) => lists.map((l) => Number(l.getAttribute('data-ms'))));
    return {
      backend: ran,
      p50: percentile(single, 0.5),
      p95: percentile(single, 0.95),
      n: single.length,
      batchP50: percentile(batch, 0.5),
    };
  } finally {
    await browser.close();
  }
}

/** Images per second for a batch chosen at once, and main-thread long tasks meanwhile. */
export async function throughput(
  url: string,
  images: number,
): Promise<{ imagesPerSecond: number; longTasksOver50: number; longestTaskMs: number }> {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await observeLongTasks(page);
    await page.goto(url);
    await page.locator(SETTLED).waitFor({ timeout: 120_000 });
    await page.getByTestId('image-input').setInputFiles(photos(1));
    await waitForResults(page, 1);
    await settled(page);
    const from = await page.evaluate(() => performance.now());
    const start = Date.now();
    await page.getByTestId('image-input').setInputFiles(photos(images));
    await waitForResults(page, images);
    const seconds = (Date.now() - start) / 1000;
    const tasks = (await longTasks(page)).filter((t) => t.start >= from);
    return {
      imagesPerSecond: images / seconds,
      longTasksOver50: tasks.filter((t) => t.duration > 50).length,
      longestTaskMs: Math.max(0, ...tasks.map((t) => t.duration)),
    };
  } finally {
    await browser.close();
  }
}

export function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return sum + (stat.isDirectory() ? dirBytes(path) : stat.size);
  }, 0);
}

/** A batch chosen right after a first visit's first result: the engines its results came from. */
export interface EarlyBatch {
  /** The engine of the batch's first result and of its last. */
  from: string;
  to: string;
  /** Input change → the first result in the DOM from the engine the batch ended on (page clock). */
  onLastEngineMs: number;
  n: number;
}

/**
 * A fresh profile's first visit: one photo as soon as the input exists, then `images` photos
 * the moment its result shows, as a user who tries one photo and then drops a folder. Each
 * result list is noted (its engine, when it appeared) by a MutationObserver in the page.
 */
export async function earlyBatch(url: string, images: number): Promise<EarlyBatch> {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { changeAt: number; shown: { backend: string; at: number }[] };
      const seen = new WeakSet<Element>();
      w.shown = [];
      document.addEventListener('change', () => ((w.changeAt = performance.now()), (w.shown = [])), true);
      new MutationObserver(() => {
        for (const list of document.querySelectorAll('[data-testid="predictions"]')) {
          if (seen.has(list)) continue;
          seen.add(list);
          w.shown.push({ backend: list.getAttribute('data-backend') ?? '', at: performance.now() });
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(url, { waitUntil: 'commit' });
    const input = page.getByTestId('image-input');
    await input.waitFor({ state: 'attached' });
    await input.setInputFiles(photos(1));
    await waitForResults(page, 1);
    await input.setInputFiles(photos(images));
    await page.waitForFunction((n) => (window as unknown as { shown: unknown[] }).shown.length >= n, images, {
      timeout: 180_000,
      polling: 50,
    });
    const { changeAt, shown } = await page.evaluate(() => {
      const w = window as unknown as { changeAt: number; shown: { backend: string; at: number }[] };
      return { changeAt: w.changeAt, shown: w.shown };
    });
    const to = shown.at(-1)!.backend;
    return {
      from: shown[0]!.backend,
      to,
      onLastEngineMs: shown.find((s) => s.backend === to)!.at - changeAt,
      n: shown.length,
    };
  } finally {
    await browser.close();
  }
}
