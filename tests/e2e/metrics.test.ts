import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startApp } from '../../harness/app-server';
import { renderNginxConf } from '../../host/nginx';
import { DEFAULT_SETTINGS } from '../../build/deploy-settings';
import { readyPage } from './app';

/**
 * What a site operator scrapes: `METRICS_PORT=… npm start` and Debian's nginx with the generated
 * config and the nginx Prometheus exporter; the Grafana dashboard may ask only for what they expose.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const EXPORTER = 'prometheus-nginx-exporter';

function series(text: string): { name: string; labels: string; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels = '', value] = line.match(/^([\w:]+)(?:\{(.*)\})? (\S+)$/)!;
      return { name: name!, labels, value: Number(value) };
    });
}

const total = (text: string, name: string, labelPart = '') =>
  series(text)
    .filter((s) => s.name === name && s.labels.includes(labelPart))
    .reduce((sum, s) => sum + s.value, 0);

async function poll<T>(read: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** The metric names a PromQL expression reads: identifiers that are not functions, keywords or label names. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/"[^"]*"/g, '');
  return [...bare.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((word) => !['and', 'or', 'unless', 'on', 'ignoring', 'offset', 'bool'].includes(word));
}

const exposed = { node: new Set<string>(), nginx: new Set<string>() };

describe('npm start with METRICS_PORT', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  let metricsUrl: string;
  beforeAll(async () => {
    const port = await freePort();
    app = await startApp({ METRICS_PORT: String(port) });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(() => app?.stop());

  it('serves the app and /metrics, whose request counters rise by exactly the requests made', async () => {
    expect(app.output).toContain(`Metrics: ${metricsUrl}`);
    const before = await (await fetch(metricsUrl)).text();
    const paths = ['/', '/model/manifest.json', '/embed.html', '/sw.js', '/no/such/file', '/favicon.svg'];
    const rounds = 5;
    for (let i = 0; i < rounds; i++)
      for (const path of paths) await (await fetch(new URL(path, app.url))).arrayBuffer();
    const after = await (await fetch(metricsUrl)).text();
    const rise = (name: string, labels = '') => total(after, name, labels) - total(before, name, labels);
    expect(rise('glimpse_http_requests_total')).toBe(rounds * paths.length);
    expect(rise('glimpse_http_requests_total', 'route="shell",status="200"')).toBe(rounds * 2);
    expect(rise('glimpse_http_requests_total', 'route="other",status="404"')).toBe(rounds);
    expect(rise('glimpse_http_request_duration_seconds_count')).toBe(rounds * paths.length);
    expect(rise('glimpse_http_response_bytes_total', 'route="model"')).toBe(
      rounds * statSync(join(ROOT, 'dist/model/manifest.json')).size,
    );
    expect((await fetch(new URL('/metrics', app.url))).status).toBe(404);
  });

  it("counts a real visit's model download by version and the engine's wasm bytes", async () => {
    const before = await (await fetch(metricsUrl)).text();
    const { close } = await readyPage(app.url);
    await close();
    const after = await (await fetch(metricsUrl)).text();
    const version = (JSON.parse(readFileSync(join(ROOT, 'dist/model/manifest.json'), 'utf8')) as { version: string })
      .version;
    const downloads =
      total(after, 'glimpse_model_downloads_total', `model="default",version="${version}"`) -
      total(before, 'glimpse_model_downloads_total', 'model="default"');
    expect(downloads).toBeGreaterThanOrEqual(1);
    expect(
      total(after, 'glimpse_http_response_bytes_total', 'route="engine-wasm"') -
        total(before, 'glimpse_http_response_bytes_total', 'route="engine-wasm"'),
    ).toBeGreaterThan(100_000);
    for (const { name } of series(after)) exposed.node.add(name);
  });
});

describe.skipIf(spawnSync(EXPORTER, ['-version']).status !== 0)(
  "Debian's nginx with stub_status and the nginx Prometheus exporter",
  () => {
    const prefix = mkdtempSync(join(tmpdir(), 'glimpse-nginx-metrics-'));
    const nginx = (...args: string[]) =>
      spawnSync('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log'), ...args], {
        encoding: 'utf8',
      });
    let exporter: ChildProcess;
    let base: string;
    let exporterUrl: string;

    beforeAll(async () => {
      const [port, statusPort, exporterPort] = [await freePort(), await freePort(), await freePort()];
      mkdirSync(join(prefix, 'tmp'));
      const paths = {
        root: join(ROOT, 'dist'),
        listen: `127.0.0.1:${port}`,
        pid: join(prefix, 'nginx.pid'),
        errorLog: join(prefix, 'error.log'),
        mimeTypes: '/etc/nginx/mime.types',
        tempDir: join(prefix, 'tmp'),
        statusListen: `127.0.0.1:${statusPort}`,
      };
      writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(DEFAULT_SETTINGS, paths));
      const started = nginx();
      expect(started.status, started.stderr).toBe(0);
      base = `http://127.0.0.1:${port}/`;
      exporter = spawn(
        EXPORTER,
        [
          `-nginx.scrape-uri=http://127.0.0.1:${statusPort}/stub_status`,
          `-web.listen-address=127.0.0.1:${exporterPort}`,
        ],
        { stdio: 'ignore' },
      );
      exporterUrl = `http://127.0.0.1:${exporterPort}/metrics`;
    });
    afterAll(() => {
      exporter?.kill();
      nginx('-s', 'quit');
      rmSync(prefix, { recursive: true, force: true });
    });

    it('exports the request counter, which rises with the requests made', async () => {
      const scrape = () =>
        poll(async () => ((await fetch(exporterUrl)).ok ? await (await fetch(exporterUrl)).text() : null));
      const before = total(await scrape(), 'nginx_http_requests_total');
      for (let i = 0; i < 10; i++) await (await fetch(base)).arrayBuffer();
      const text = await scrape();
      expect(total(text, 'nginx_up')).toBe(1);
      // stub_status counts its own scrapes too: at least the 10 requests made.
      expect(total(text, 'nginx_http_requests_total') - before).toBeGreaterThanOrEqual(10);
      for (const { name } of series(text)) exposed.nginx.add(name);
    });
  },
);

describe('the Grafana dashboard (deploy/grafana/glimpse.json)', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/glimpse.json'), 'utf8')) as {
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
  };
  const queries = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, names: metricNames(target.expr) })),
  );

  it('asks only for metric names the hosts expose', () => {
    expect(exposed.node.size, 'the npm start tests ran first').toBeGreaterThan(0);
    const nginxChecked = exposed.nginx.size > 0;
    for (const { panel, names } of queries) {
      expect(names.length, panel).toBeGreaterThan(0);
      for (const name of names) {
        if (name.startsWith('nginx_') && !nginxChecked) continue;
        expect(exposed.node.has(name) || exposed.nginx.has(name), `${panel}: ${name}`).toBe(true);
      }
    }
  });

  it('shows requests by route and status, errors, p50/p95 latency, bytes and model downloads by version', () => {
    const all = queries.flatMap((q) => q.names);
    for (const name of [
      'glimpse_http_requests_total',
      'glimpse_http_request_duration_seconds_bucket',
      'glimpse_http_response_bytes_total',
      'glimpse_model_downloads_total',
      'nginx_http_requests_total',
    ])
      expect(all).toContain(name);
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    expect(exprs).toContain('by (route, status)');
    expect(exprs).toContain('histogram_quantile(0.5,');
    expect(exprs).toContain('histogram_quantile(0.95,');
    expect(exprs).toContain('by (model, version)');
  });
});
