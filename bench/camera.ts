import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch } from '../harness/browser';
import { photoToY4m } from '../harness/fake-camera';
import { longTasksSince, observeLongTasks } from './measure';

const FIXTURES = resolve(import.meta.dirname, '../tests/fixtures');

export interface CameraFigures {
  backend: string;
  /** Frames/s the preview shows with no classification, and while classifying. */
  previewFpsIdle: number;
  previewFpsLive: number;
  classifiedFps: number;
  workerMs: number;
  /** classified fps ÷ (1000 / worker ms): 1 means the worker never waits for a frame. */
  capacity: number;
  longTasksOver50: number;
}

/** Frames a <video> presents over `ms`, counted with requestVideoFrameCallback. */
const countFrames = (selector: string, ms: number) => `new Promise((done) => {
  const video = document.querySelector(${JSON.stringify(selector)});
  let frames = 0;
  const start = performance.now();
  const tick = () => { frames++; if (performance.now() - start < ${ms}) video.requestVideoFrameCallback(tick); else done(frames / ((performance.now() - start) / 1000)); };
  video.requestVideoFrameCallback(tick);
})`;

/** The Camera view on Chromium's fake camera (a looping video of a fixture photo), on one backend. */
export async function measureCamera(url: string, backend: string, seconds = 8): Promise<CameraFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-bench-camera-'));
  const video = join(dir, 'parrot.y4m');
  await photoToY4m(resolve(FIXTURES, 'parrot.jpg'), video, 640, 480, 30);
  const browser = await launch({
    extraArgs: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  try {
    const page = await browser.context.newPage();
    await observeLongTasks(page);
    await page.goto(`${url}?view=camera&backend=${backend}`);
    await page.locator('[data-testid="model-status"][data-state="ready"]').waitFor({ timeout: 180_000 });
    const previewFpsIdle = (await page.evaluate(`(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      const v = Object.assign(document.createElement('video'), { id: 'idle-preview', muted: true, srcObject: stream });
      document.body.append(v);
      await v.play();
      const fps = await ${countFrames('#idle-preview', 3_000)};
      stream.getTracks().forEach((t) => t.stop());
      v.remove();
      return fps;
    })()`)) as number;
    await page.getByTestId('camera-start').click();
    await page.locator('[data-testid="camera-status"][data-state="live"]').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(2_000);
    const from = await page.evaluate(() => performance.now());
    const previewFpsLive = (await page.evaluate(countFrames('[data-testid="camera-video"]', seconds * 1000))) as number;
    const status = page.getByTestId('camera-status');
    const classifiedFps = Number(await status.getAttribute('data-fps'));
    const workerMs = Number(await status.getAttribute('data-ms'));
    return {
      backend,
      previewFpsIdle,
      previewFpsLive,
      classifiedFps,
      workerMs,
      capacity: (classifiedFps * workerMs) / 1000,
      longTasksOver50: await longTasksSince(page, from),
    };
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function cameraMarkdown(rows: readonly CameraFigures[]): string {
  return [
    '| camera, backend | preview fps, idle | preview fps, classifying | classified fps | worker ms / frame | fps ÷ (1000 / ms) (target ≥ 0.8) | long tasks > 50 ms |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.backend} | ${r.previewFpsIdle.toFixed(1)} | ${r.previewFpsLive.toFixed(1)} | ${r.classifiedFps.toFixed(1)} | ${r.workerMs.toFixed(1)} | ${r.capacity.toFixed(2)} | ${r.longTasksOver50} |`,
    ),
  ].join('\n');
}
