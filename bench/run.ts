import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '../host/serve';
import { DEFAULT_SETTINGS } from '../build/deploy-settings';
import { launch } from '../harness/browser';
import { freePort, startApp } from '../harness/app-server';
import { median } from '../src/core/stats';
import { benchTargets, PEERS, type JudgedTarget } from './targets';
import { cameraMarkdown, measureCamera } from './camera';
import { explainMarkdown, measureExplain } from './explain';
import { measureTraining, trainingMarkdown } from './training';
import {
  dirBytes,
  earlyBatch,
  startTiming,
  throughput,
  userWait,
  warmLatency,
  type EarlyBatch,
  type Latency,
  type Link,
  type StartTiming,
  type UserWait,
} from './measure';

const ROOT = resolve(import.meta.dirname, '..');

export interface BenchOptions {
  glimpseUrl: string;
  baselineUrl: string;
  /** Other runtimes' pages on the same model, by name. */
  peerUrls: Record<string, string>;
  runs: number;
  images: number;
  batch: number;
  backends: string[];
  /** A slow link the cold start is measured over too (the bench's host is on loopback); none in smoke runs. */
  link?: Link;
  /** Photos in a batch chosen the moment a first visit's first result shows; none in smoke runs. */
  earlyBatch?: number;
}

export interface TargetResult {
  /** What a user waits from choosing photos to seeing their results, timed in the page. */
  userWait: UserWait;
  cold: StartTiming;
  cached: StartTiming;
  /** The cold start over BenchOptions.link. */
  coldOverLink?: StartTiming;
  warm: Latency[];
  auto: Latency | null;
  /** A batch chosen right after a first visit's first result (Glimpse only: the baseline has one engine). */
  earlyBatch?: EarlyBatch;
  throughput: Awaited<ReturnType<typeof throughput>>;
  distBytes: number;
}

/** A peer runtime's page, measured as the baseline is: warm time per image and cold start. */
export interface PeerResult {
  name: string;
  warm: Latency | null;
  cold: StartTiming;
  /** What the user waits on the peer's page, for LiteRT.js (1 thread) only. */
  userWait?: UserWait;
}

export interface BenchReport {
  machine: string;
  options: Omit<BenchOptions, 'glimpseUrl' | 'baselineUrl' | 'peerUrls'>;
  glimpse: TargetResult;
  baseline: TargetResult;
  peers: PeerResult[];
  targets: JudgedTarget[];
}

/** Field-wise median of several start timings. */
function medianTiming(runs: StartTiming[]): StartTiming {
  const pick = (f: (t: StartTiming) => number) => median(runs.map(f));
  return {
    jsStarted: pick((t) => t.jsStarted),
    modelDownloaded: pick((t) => t.modelDownloaded),
    ready: pick((t) => t.ready),
    warmupMs: pick((t) => t.warmupMs),
    firstResult: pick((t) => t.firstResult),
    bytes: {
      js: pick((t) => t.bytes.js),
      wasm: pick((t) => t.bytes.wasm),
      model: pick((t) => t.bytes.model),
      other: pick((t) => t.bytes.other),
    },
    longTasksOver50: pick((t) => t.longTasksOver50),
  };
}

/** Software GPUs and plain JS take seconds per image here: a few images say enough. */
const imagesFor = (backend: string, images: number) => (backend === 'wasm' ? images : Math.min(images, 4));

/** A page's figures that need no comparison minute by minute (forced backends, throughput, size). */
async function measureTarget(
  url: string,
  dist: string | null,
  o: BenchOptions,
  log: (s: string) => void,
): Promise<Omit<TargetResult, 'userWait' | 'auto' | 'cold' | 'cached'>> {
  const warm: Latency[] = [];
  for (const backend of o.backends) {
    const latency = await warmLatency(url, backend, imagesFor(backend, o.images));
    log(`  ${backend}: ${latency ? `p50 ${latency.p50.toFixed(1)} ms` : 'not available'}`);
    if (latency) warm.push(latency);
  }
  const batch = await throughput(url, o.batch);
  log(`  batch ${batch.imagesPerSecond.toFixed(1)} images/s`);
  return { warm, throughput: batch, distBytes: dist ? dirBytes(dist) : NaN };
}

/** A cold start in a fresh profile (over `link` where given) and, when asked, a second navigation in the same one (cached). */
async function starts(
  url: string,
  { cached = false, link }: { cached?: boolean; link?: Link } = {},
): Promise<{ cold: StartTiming; cached?: StartTiming }> {
  const browser = await launch();
  try {
    const cold = await startTiming(browser.context, url, link);
    return cached ? { cold, cached: await startTiming(browser.context, url) } : { cold };
  } finally {
    await browser.close();
  }
}

const medianWait = (waits: UserWait[]): UserWait => ({
  singleP50: median(waits.map((w) => w.singleP50)),
  outsideP50: median(waits.map((w) => w.outsideP50)),
  batchMs: median(waits.map((w) => w.batchMs)),
  n: waits[0]!.n,
});
const medianLatency = (runs: (Latency | null)[]): Latency | null => {
  const got = runs.filter((l): l is Latency => l !== null);
  if (!got.length) return null;
  const pick = (f: (l: Latency) => number) => median(got.map(f));
  return {
    backend: got[0]!.backend,
    p50: pick((l) => l.p50),
    p95: pick((l) => l.p95),
    n: got.reduce((n, l) => n + l.n, 0),
    batchP50: pick((l) => l.batchP50),
  };
};

export async function runBench(o: BenchOptions, log: (s: string) => void = () => undefined): Promise<BenchReport> {
  log('Glimpse');
  const glimpse = await measureTarget(o.glimpseUrl, resolve(ROOT, 'dist'), o, log);
  log('baseline (full @tensorflow/tfjs on the main thread)');
  // dist-bench/ holds the peer pages too: the baseline's own size is not told apart.
  const baseline = await measureTarget(o.baselineUrl, null, o, log);
  // Start-up, what the user waits and the warm time of the automatic choice and of every peer are
  // measured in turns, round after round: the VM's speed swings 2× within minutes, and this way
  // every page meets each state alike (medians over the rounds).
  const pages: [string, string][] = [
    ['glimpse', o.glimpseUrl],
    ['baseline', o.baselineUrl],
    ...Object.entries(o.peerUrls),
  ];
  const colds = new Map<string, StartTiming[]>(pages.map(([name]) => [name, []]));
  const cacheds = { glimpse: [] as StartTiming[], baseline: [] as StartTiming[] };
  const overLink = { glimpse: [] as StartTiming[], baseline: [] as StartTiming[] };
  const waits = { glimpse: [] as UserWait[], baseline: [] as UserWait[] };
  const early: EarlyBatch[] = [];
  const liteRtWaits: UserWait[] = [];
  const warm = new Map<string, (Latency | null)[]>(pages.map(([name]) => [name, []]));
  for (let round = 0; round < o.runs; round++) {
    for (const [name, url] of pages) {
      const start = await starts(url, { cached: name === 'glimpse' || name === 'baseline' });
      colds.get(name)!.push(start.cold);
      if (start.cached) cacheds[name as keyof typeof cacheds].push(start.cached);
    }
    if (o.link)
      for (const name of ['glimpse', 'baseline'] as const)
        overLink[name].push((await starts(name === 'glimpse' ? o.glimpseUrl : o.baselineUrl, { link: o.link })).cold);
    waits.glimpse.push(await userWait(o.glimpseUrl, o.images));
    waits.baseline.push(await userWait(o.baselineUrl, o.images));
    if (o.earlyBatch) early.push(await earlyBatch(o.glimpseUrl, o.earlyBatch));
    const liteRtUrl = o.peerUrls[PEERS.liteRt];
    if (liteRtUrl) liteRtWaits.push(await userWait(liteRtUrl, o.images));
    for (const [name, url] of pages) warm.get(name)!.push(await warmLatency(url, null, o.images));
    const first = (name: string) => colds.get(name)!.at(-1)!.firstResult.toFixed(0);
    log(
      `  round ${round + 1}/${o.runs}: cold ${first('glimpse')} vs ${first('baseline')} ms, cached ${cacheds.glimpse.at(-1)!.firstResult.toFixed(0)} vs ${cacheds.baseline.at(-1)!.firstResult.toFixed(0)} ms; change → result ${waits.glimpse.at(-1)!.singleP50.toFixed(0)} vs ${waits.baseline.at(-1)!.singleP50.toFixed(0)} ms; ${early.length ? `batch after the first result on ${early.at(-1)!.to} after ${early.at(-1)!.onLastEngineMs.toFixed(0)} ms; ` : ''}warm p50 ${[...warm].map(([n, l]) => `${n.split(' ')[0]} ${l.at(-1)?.p50.toFixed(1) ?? '–'}`).join(', ')}`,
    );
  }
  const timings = (name: 'glimpse' | 'baseline') => ({
    cold: medianTiming(colds.get(name)!),
    cached: medianTiming(cacheds[name]),
    ...(o.link ? { coldOverLink: medianTiming(overLink[name]) } : {}),
    userWait: medianWait(waits[name]),
    auto: medianLatency(warm.get(name)!),
  });
  // The engine of the last round's batch: a round that ended elsewhere shows in its own line above.
  const glimpseResult = {
    ...glimpse,
    ...timings('glimpse'),
    ...(early.length
      ? { earlyBatch: { ...early.at(-1)!, onLastEngineMs: median(early.map((e) => e.onLastEngineMs)) } }
      : {}),
  };
  const baselineResult = { ...baseline, ...timings('baseline') };
  const peers = Object.keys(o.peerUrls).map((name) => ({
    name,
    warm: medianLatency(warm.get(name)!),
    cold: medianTiming(colds.get(name)!),
    ...(name === PEERS.liteRt && liteRtWaits.length ? { userWait: medianWait(liteRtWaits) } : {}),
  }));
  const targets = benchTargets(glimpseResult, baselineResult, o.batch, peers);
  const { glimpseUrl: _g, baselineUrl: _b, peerUrls: _p, ...options } = o;
  return {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${process.platform}, headless Chromium`,
    options,
    glimpse: glimpseResult,
    baseline: baselineResult,
    peers,
    targets,
  };
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '–');
const kb = (x: number) => `${(x / 1024).toFixed(0)} KB`;
const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–');

export function markdown(r: BenchReport): string {
  const { glimpse: g, baseline: b } = r;
  const row = (name: string, gv: number, bv: number, fmt: (x: number) => string) =>
    `| ${name} | ${fmt(gv)} | ${fmt(bv)} | ${ratio(gv, bv)} |`;
  const lat = (t: TargetResult, backend: string) => t.warm.find((l) => l.backend === backend);
  const lines = [
    `Machine: ${r.machine}. Runs: ${r.options.runs} (medians), ${r.options.images} images per backend (4 on cpu/webgl/webgpu), batch of ${r.options.batch}.`,
    '',
    '| metric | Glimpse | baseline: full tfjs, main thread | Glimpse / baseline |',
    '|---|---|---|---|',
    row(
      'what the user waits: input change → result in the DOM, one photo (p50)',
      g.userWait.singleP50,
      b.userWait.singleP50,
      ms,
    ),
    row(`… a batch of ${g.userWait.n} chosen at once, to the last result`, g.userWait.batchMs, b.userWait.batchMs, ms),
    row(
      'photo chosen → answer on screen, measured from outside the page (p50)',
      g.userWait.outsideP50,
      b.userWait.outsideP50,
      ms,
    ),
    row('cold start: navigation → first result', g.cold.firstResult, b.cold.firstResult, ms),
    row('… JS started', g.cold.jsStarted, b.cold.jsStarted, ms),
    row('… model downloaded', g.cold.modelDownloaded, b.cold.modelDownloaded, ms),
    row('… backend ready (model warm)', g.cold.ready, b.cold.ready, ms),
    row('… warm-up', g.cold.warmupMs, b.cold.warmupMs, ms),
    row('… first classification after ready', g.cold.firstResult - g.cold.ready, b.cold.firstResult - b.cold.ready, ms),
    ...(r.options.link && g.coldOverLink && b.coldOverLink
      ? [
          row(
            `cold start over a ${r.options.link.mbps} Mbit/s, ${r.options.link.rttMs} ms link`,
            g.coldOverLink.firstResult,
            b.coldOverLink.firstResult,
            ms,
          ),
          row('… model downloaded', g.coldOverLink.modelDownloaded, b.coldOverLink.modelDownloaded, ms),
        ]
      : []),
    row('cached start: navigation → first result', g.cached.firstResult, b.cached.firstResult, ms),
    ...(g.earlyBatch
      ? [
          `| a batch of ${g.earlyBatch.n} chosen the moment a first visit's first result shows: change → first result on the engine it ends on (${g.earlyBatch.from} → ${g.earlyBatch.to}) | ${ms(g.earlyBatch.onLastEngineMs)} | – | – |`,
        ]
      : []),
    ...['wasm', 'webgl', 'cpu', 'webgpu'].flatMap((backend) => {
      const gl = lat(g, backend);
      const bl = lat(b, backend);
      if (!gl && !bl) return [];
      return [
        row(`warm p50 on ${backend} (forced)`, gl?.p50 ?? NaN, bl?.p50 ?? NaN, ms),
        row(`warm p95 on ${backend} (forced)`, gl?.p95 ?? NaN, bl?.p95 ?? NaN, ms),
      ];
    }),
    row(
      `warm p50, automatic choice (${g.auto?.backend}) vs baseline's best`,
      g.auto?.p50 ?? NaN,
      Math.min(...b.warm.map((l) => l.p50)),
      ms,
    ),
    row(
      `… in a batch of ${r.options.images} chosen at once`,
      g.auto?.batchP50 ?? NaN,
      Math.min(...b.warm.map((l) => l.batchP50)),
      ms,
    ),
    row(`batch throughput (images/s)`, g.throughput.imagesPerSecond, b.throughput.imagesPerSecond, (x) => x.toFixed(1)),
    row('main-thread long tasks > 50 ms, cold start', g.cold.longTasksOver50, b.cold.longTasksOver50, String),
    row(
      `main-thread long tasks > 50 ms, ${r.options.batch} classifications`,
      g.throughput.longTasksOver50,
      b.throughput.longTasksOver50,
      String,
    ),
    row('longest main-thread task while classifying', g.throughput.longestTaskMs, b.throughput.longestTaskMs, ms),
    row('JS bytes before first result', g.cold.bytes.js, b.cold.bytes.js, kb),
    row('wasm bytes before first result', g.cold.bytes.wasm, b.cold.bytes.wasm, kb),
    row('model bytes before first result', g.cold.bytes.model, b.cold.bytes.model, kb),
    row('total dist/ size', g.distBytes, b.distBytes, kb),
    '',
    '| peer runtime, same model, main thread | warm p50 | Glimpse warm p50 (automatic) ÷ peer | in a batch: peer | Glimpse ÷ peer | cold: first result | Glimpse cold ÷ peer | JS + wasm before it |',
    '|---|---|---|---|---|---|---|---|',
    ...r.peers.map(
      (p) =>
        `| ${p.name} | ${ms(p.warm?.p50 ?? NaN)} | ${ratio(g.auto?.p50 ?? NaN, p.warm?.p50 ?? NaN)} | ${ms(p.warm?.batchP50 ?? NaN)} | ${ratio(g.auto?.batchP50 ?? NaN, p.warm?.batchP50 ?? NaN)} | ${ms(p.cold.firstResult)} | ${ratio(g.cold.firstResult, p.cold.firstResult)} | ${kb(p.cold.bytes.js + p.cold.bytes.wasm)} |`,
    ),
    ...r.peers.flatMap((p) =>
      p.userWait
        ? [
            '',
            `| what the user waits (input change → result in the DOM), against ${p.name} | Glimpse | peer | Glimpse ÷ peer |`,
            '|---|---|---|---|',
            row('one photo (p50)', g.userWait.singleP50, p.userWait.singleP50, ms),
            row(
              'photo chosen → answer on screen, from outside the page (p50)',
              g.userWait.outsideP50,
              p.userWait.outsideP50,
              ms,
            ),
            row(
              `a batch of ${p.userWait.n} chosen at once, to the last result`,
              g.userWait.batchMs,
              p.userWait.batchMs,
              ms,
            ),
          ]
        : [],
    ),
    '',
    '| target | value | limit | met |',
    '|---|---|---|---|',
    ...r.targets.map(
      (t) =>
        `| ${t.name} | ${t.value.toFixed(2)} | ${t.direction === 'at-most' ? '≤' : '≥'} ${t.limit} | ${t.met ? 'yes' : '**no**'} |`,
    ),
  ];
  return lines.join('\n');
}

/**
 * Builds the baseline and peer pages (never shipped) and serves them with the same host and
 * headers as Glimpse; LiteRT's threaded build from a cross-origin isolated host, which its
 * threads need, next to Glimpse built for such a host (`withIsolatedGlimpse`).
 */
export async function startBaseline(
  withIsolatedGlimpse = false,
  onnxModel?: string,
): Promise<{ url: string; peers: Record<string, string>; close: () => void }> {
  const built = spawnSync('npx', ['vite', 'build', '-c', 'bench/vite.config.ts'], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`baseline build failed: ${built.stderr}`);
  const dir = resolve(ROOT, 'dist-bench');
  const buildGlimpse = (outDir: string, args: string[], env: Record<string, string> = {}) => {
    const app = spawnSync('npx', ['tsx', 'build/app.ts', '--out-dir', outDir, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    if (app.status !== 0) throw new Error(`build of ${outDir} failed: ${app.stderr}`);
  };
  const isolatedGlimpse = resolve(ROOT, 'dist-bench-isolated');
  if (withIsolatedGlimpse) buildGlimpse(isolatedGlimpse, [], { GLIMPSE_ISOLATE: '1' });
  // Glimpse built with the ONNX model, and the same prepared files for the onnxruntime-web page.
  const onnxGlimpse = resolve(ROOT, 'dist-bench-onnx');
  if (onnxModel) {
    buildGlimpse(onnxGlimpse, ['--model', onnxModel]);
    mkdirSync(resolve(dir, 'onnx-model'), { recursive: true });
    for (const file of ['model.onnx', 'metadata.json', 'labels.json'])
      copyFileSync(resolve(onnxGlimpse, 'model', file), resolve(dir, 'onnx-model', file));
  }
  const isolate = { ...DEFAULT_SETTINGS, isolate: true };
  const servers = [
    await serve({ dir, host: '127.0.0.1', port: await freePort(), settings: DEFAULT_SETTINGS }),
    await serve({ dir, host: '127.0.0.1', port: await freePort(), settings: isolate }),
    withIsolatedGlimpse
      ? await serve({ dir: isolatedGlimpse, host: '127.0.0.1', port: await freePort(), settings: isolate })
      : null,
    onnxModel
      ? await serve({ dir: onnxGlimpse, host: '127.0.0.1', port: await freePort(), settings: DEFAULT_SETTINGS })
      : null,
  ];
  const [url, isolatedUrl, glimpseUrl, onnxUrl] = servers.map(
    (s) => s && `http://127.0.0.1:${(s.address() as { port: number }).port}/`,
  );
  return {
    url: url!,
    peers: {
      [PEERS.liteRt]: `${url}litert/`,
      [PEERS.liteRtThreads]: `${isolatedUrl}litert/?threads`,
      [PEERS.mediaPipe]: `${url}mediapipe/`,
      ...(glimpseUrl ? { [PEERS.glimpseIsolated]: glimpseUrl } : {}),
      ...(onnxUrl ? { [PEERS.glimpseOnnx]: onnxUrl, [PEERS.onnxWeb]: `${url}onnx/` } : {}),
    },
    close: () => servers.forEach((s) => s?.close()),
  };
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      images: { type: 'string', default: '20' },
      batch: { type: 'string', default: '50' },
      backends: { type: 'string', default: 'wasm,webgl,cpu,webgpu' },
      json: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      camera: { type: 'string', default: 'wasm,webgl' },
      train: { type: 'string', default: '67' },
      link: { type: 'string', default: '20,40' },
      onnx: { type: 'string', default: resolve(ROOT, '../shared/models/onnx/mobilenetv2-12-int8-hf') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`npm run bench -- [--runs 3] [--images 20] [--batch 50] [--backends wasm,webgl,cpu,webgpu] [--camera wasm,webgl] [--link 20,40] [--json report.json] [--smoke]

Measures Glimpse (served by npm start) against a baseline page that runs the full
@tensorflow/tfjs bundle on the main thread, in headless Chromium, and prints a markdown table.
--batch: photos in the throughput batch, and in the batch a first visit chooses the moment its first
  result shows (which engine each result came from: the switch to the fastest is to come within 2 s).
--camera: backends to run the Camera view on (Chromium's fake camera); '' for none.
--train: photos per class (3 classes) the Train view trains on; 0 for none.
--link: Mbit/s,RTT ms of an emulated link the cold start is measured over too (the host is on
  loopback, where bytes cost nothing); '' for none.
--onnx: an ONNX model (a Hugging Face folder, say) that Glimpse is built with and run against a plain
  onnxruntime-web page on the same model; default ../shared/models/onnx/mobilenetv2-12-int8-hf where
  it exists; '' for none.
--smoke: 1 run, 3 images, wasm only, no camera, training or peers (what npm test runs).`);
    process.exit(0);
  }
  const smoke = values.smoke;
  const options = {
    runs: smoke ? 1 : Number(values.runs),
    images: smoke ? 3 : Number(values.images),
    batch: smoke ? 3 : Number(values.batch),
    backends: smoke ? ['wasm'] : values.backends.split(','),
    ...(smoke || !values.link
      ? {}
      : { link: { mbps: Number(values.link.split(',')[0]), rttMs: Number(values.link.split(',')[1] ?? 0) } }),
    ...(smoke ? {} : { earlyBatch: Number(values.batch) }),
  };
  const app = await startApp();
  const onnx = values.onnx && existsSync(values.onnx) ? values.onnx : undefined;
  const baseline = await startBaseline(!smoke, smoke ? undefined : onnx);
  try {
    const report = await runBench(
      { ...options, glimpseUrl: app.url, baselineUrl: baseline.url, peerUrls: smoke ? {} : baseline.peers },
      (s) => console.error(s),
    );
    console.log(markdown(report));
    const camera = [];
    for (const backend of smoke ? [] : values.camera.split(',').filter(Boolean)) {
      console.error(`camera on ${backend}`);
      camera.push(await measureCamera(app.url, backend));
    }
    if (camera.length > 0) console.log(`\n${cameraMarkdown(camera)}`);
    const explain = smoke ? [] : (console.error('explain'), await measureExplain(app.url));
    if (explain.length > 0) console.log(`\n${explainMarkdown(explain)}`);
    const perClass = smoke ? 0 : Number(values.train);
    const training =
      perClass > 0
        ? (console.error(`training on ${perClass * 3} photos`), await measureTraining(app.url, perClass))
        : null;
    if (training) console.log(`\n${trainingMarkdown(training)}`);
    if (values.json) writeFileSync(values.json, JSON.stringify({ ...report, camera, explain, training }, null, 2));
  } finally {
    baseline.close();
    await app.stop();
  }
}
