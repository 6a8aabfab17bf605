import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { launch } from '../harness/browser';
import { startApp } from '../harness/app-server';
import { longTasksSince, observeLongTasks } from './measure';

/**
 * The Train view on a phone-sized dataset: thousands of JPEGs (2000×1500 by default, or 12 MP)
 * in a folder per class, chosen as one folder in real headless Chromium against the built site.
 * Reports how soon Train is usable, features per second, seconds to trained, Retrain, scrolling
 * the photo list, and the whole browser's memory (every Chromium process's PSS, summed) as it goes.
 *
 *   npm run bench:train -- [--photos 5000] [--classes 20] [--size 2000x1500]
 *
 * The photos are made once from ../shared/images/imagenet-sample-1000 (else the committed
 * fixtures): crops, mirrors and brightness of the sources, each a distinct file, so no
 * feature is shared by content.
 */

const SHARED_SAMPLE = resolve(import.meta.dirname, '../../shared/images/imagenet-sample-1000');
const FIXTURES = resolve(import.meta.dirname, '../tests/fixtures');

async function makePhotos(count: number, classes: number, width: number, height: number): Promise<string> {
  const dir = join(tmpdir(), `glimpse-scale-${count}-${classes}-${width}x${height}`);
  const done = join(dir, '.complete');
  if (existsSync(done)) return dir;
  const sources = existsSync(SHARED_SAMPLE)
    ? readdirSync(SHARED_SAMPLE)
        .filter((f) => f.endsWith('.JPEG'))
        .sort()
        .map((f) => join(SHARED_SAMPLE, f))
    : ['parrot.jpg', 'hot_dog.jpg', 'cat.png', 'dragonfly.png', 'bird.png'].map((f) => join(FIXTURES, f));
  const perSource = Math.ceil(count / sources.length);
  const make = async (i: number) => {
    const s = i % sources.length;
    const variant = Math.floor(i / sources.length);
    // Neighbouring ImageNet classes are related (dogs, birds…): a class is a run of them.
    const label = `class-${String(Math.floor((s * classes) / sources.length)).padStart(2, '0')}`;
    const path = join(dir, label, `IMG_${String(i).padStart(5, '0')}.jpg`);
    if (existsSync(path)) return;
    mkdirSync(join(dir, label), { recursive: true });
    const meta = await sharp(sources[s]!).metadata();
    const scale = 0.7 + (0.3 * variant) / Math.max(1, perSource);
    const w = Math.round((meta.width ?? 1) * scale);
    const h = Math.round((meta.height ?? 1) * scale);
    let image = sharp(sources[s]!).extract({
      left: Math.round((((meta.width ?? 1) - w) * ((variant * 37) % 100)) / 100),
      top: Math.round((((meta.height ?? 1) - h) * ((variant * 53) % 100)) / 100),
      width: w,
      height: h,
    });
    if (variant % 2) image = image.flop();
    await image
      .modulate({ brightness: 0.85 + 0.05 * (variant % 6) })
      .resize(width, height, { fit: 'cover', kernel: 'linear' })
      .removeAlpha()
      .jpeg({ quality: 88 })
      .toFile(path);
  };
  // Several at once: sharp works on libuv's thread pool.
  for (let from = 0; from < count; from += 8) {
    await Promise.all(Array.from({ length: Math.min(8, count - from) }, (_, k) => make(from + k)));
    if (from % 500 === 0) console.log(`made ${from} of ${count} photos`);
  }
  writeFileSync(done, '');
  return dir;
}

/** Every process under the browser's: Chromium's renderers, GPU and utility processes are its descendants. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

/** Proportional set size of the processes, summed (shared pages split among their users), in MB. */
function memoryMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // The process ended while we looked.
    }
  }
  return kb / 1024;
}

/** The browser process: the one whose command line names the profile directory and has no --type. */
function browserPid(profileHint: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.includes(profileHint)) && !cmd.some((a) => a.startsWith('--type='))) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error('no Chromium browser process found');
}

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '5000' },
    classes: { type: 'string', default: '20' },
    size: { type: 'string', default: '2000x1500' },
  },
});
const count = Number(values.photos);
const classes = Number(values.classes);
const [width, height] = values.size.split('x').map(Number) as [number, number];
const dir = await makePhotos(count, classes, width, height);
const app = await startApp();
const browser = await launch();
const samples: { t: number; mb: number; done: number }[] = [];
try {
  const page = await browser.context.newPage();
  await observeLongTasks(page);
  await page.goto(`${app.url}?view=train`);
  await page.locator('[data-testid="model-status"][data-state="ready"]').waitFor({ timeout: 180_000 });
  const root = browserPid('glimpse-chromium-');
  let features = 0;
  const sampler = setInterval(
    () => samples.push({ t: performance.now(), mb: memoryMb(descendants(root)), done: features }),
    500,
  );
  const idle = memoryMb(descendants(root));

  const chosen = performance.now();
  await page.getByTestId('train-input').setInputFiles(dir);
  const setSeconds = (performance.now() - chosen) / 1000;
  await page.getByTestId('train-start').and(page.locator(':enabled')).waitFor({ timeout: 600_000 });
  const usableSeconds = (performance.now() - chosen) / 1000;
  // Every header checked, in the background, while the user may already press Train.
  const checked = page
    .getByTestId('train-reading')
    .waitFor({ state: 'detached', timeout: 600_000 })
    .then(() => (performance.now() - chosen) / 1000);

  await page.evaluate(() => {
    const w = window as unknown as { marks: Record<string, number> };
    w.marks = { start: performance.now() };
    const status = document.querySelector('[data-testid=train-status]')!;
    new MutationObserver(() => (w.marks[status.getAttribute('data-state')!] ??= performance.now())).observe(status, {
      attributes: true,
    });
  });
  if (process.env.WAIT_CHECKS) await checked;
  const marks = () => page.evaluate(() => (window as unknown as { marks: Record<string, number> }).marks);
  await page.getByTestId('train-start').click();
  const started = performance.now();
  while ((await page.getByTestId('train-status').getAttribute('data-state')) === 'features') {
    features = Number(
      (await page
        .getByTestId('train-progress')
        .getAttribute('value')
        .catch(() => null)) ?? features,
    );
    if (features > 0 && features % 500 < 10)
      process.stdout.write(
        `features ${features}/${count} ${((performance.now() - started) / 1000).toFixed(0)} s, ${samples.at(-1)?.mb.toFixed(0)} MB\n`,
      );
    await page.waitForTimeout(1000);
  }
  await page.locator('[data-testid="train-status"][data-state="done"]').waitFor({ timeout: 3_600_000 });
  const status = page.getByTestId('train-status');
  const m = await marks();
  const longTasks = await longTasksSince(page, m.start!);
  if (process.env.DEBUG_LONG)
    console.log(
      JSON.stringify(await page.evaluate(() => (window as unknown as { longTasks: unknown[] }).longTasks)),
      m,
    );
  const figures = {
    featuresPerSecond: Number(await status.getAttribute('data-features-per-second')),
    seconds: Number(await status.getAttribute('data-seconds')),
    headSeconds: (m.done! - m.training!) / 1000,
    valAccuracy: Number(await status.getAttribute('data-val-accuracy')),
  };

  // Retrain: every feature known.
  await page.getByTestId('train-retrain').click();
  await page.locator('[data-testid="train-status"][data-state="training"]').waitFor();
  await page.locator('[data-testid="train-status"][data-state="done"]').waitFor({ timeout: 600_000 });
  const retrainSeconds = Number(await status.getAttribute('data-seconds'));

  // Scrolling the whole photo list, as a user flicks through it.
  const scroll = await page.getByTestId('train-photos').evaluate(async (list) => {
    const frames: number[] = [];
    let last = performance.now();
    for (let y = 0; y < list.scrollHeight; y += list.scrollHeight / 120) {
      list.scrollTop = y;
      await new Promise(requestAnimationFrame);
      const now = performance.now();
      frames.push(now - last);
      last = now;
    }
    return {
      frames: frames.length,
      worst: Math.max(...frames),
      rendered: list.querySelectorAll('[data-testid=train-photo]').length,
    };
  });
  clearInterval(sampler);
  const during = samples.filter((s) => s.t >= started);
  const peak = Math.max(...during.map((s) => s.mb));
  const at = (share: number) => during.find((s) => s.done >= share * count)?.mb ?? NaN;
  console.log(
    [
      '',
      `| Train view, ${count} photos ${width}×${height} JPEG in ${classes} classes (one folder) | value |`,
      '|---|---|',
      `| chosen → Train usable; → every header checked (in the background, Train pressed at once) | ${usableSeconds.toFixed(1)} s (Playwright's setInputFiles ${setSeconds.toFixed(1)} s of it); ${(await checked).toFixed(1)} s |`,
      `| features, photos/s | ${figures.featuresPerSecond.toFixed(1)} |`,
      `| Train → trained (features and head) | ${figures.seconds.toFixed(1)} s (head ${figures.headSeconds.toFixed(1)} s) |`,
      `| Retrain (every feature kept) | ${retrainSeconds.toFixed(1)} s |`,
      `| validation accuracy | ${figures.valAccuracy.toFixed(3)} |`,
      `| whole browser memory (PSS, every process): idle / at 10% / 50% / 100% of features / peak | ${idle.toFixed(0)} / ${at(0.1).toFixed(0)} / ${at(0.5).toFixed(0)} / ${at(0.99).toFixed(0)} / ${peak.toFixed(0)} MB |`,
      `| main-thread tasks > 50 ms from Train to done | ${longTasks} |`,
      `| scrolling the photo list top to bottom: frames, worst frame, cells in the DOM | ${scroll.frames}, ${scroll.worst.toFixed(0)} ms, ${scroll.rendered} |`,
    ].join('\n'),
  );
} finally {
  await browser.close();
  await app.stop();
}
