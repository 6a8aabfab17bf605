import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHostMetrics,
  metricsPort,
  modelDownloaded,
  routeOf,
  ROUTES,
  serveMetrics,
  shippedModels,
  type HostMetrics,
} from '../../host/metrics';
import { serve } from '../../host/serve';
import { DEFAULT_SETTINGS } from '../../build/deploy-settings';
import { seededRandom } from '../../src/core/stats';
import { randomRequest, rawRequest } from '../helpers/http-fuzz';

/** A tiny built site: a page, the built-in model's folder and one shipped model. */
function site(): string {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-metrics-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Glimpse</title>');
  writeFileSync(join(dir, 'sw.js'), '// service worker');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'tfjs-backend-wasm-simd-0123abcd.wasm'), Buffer.alloc(1000));
  for (const [folder, version] of [
    ['model', 'aaaaaaaaaaaaaaaa'],
    ['models/birds', 'bbbbbbbbbbbbbbbb'],
  ] as const) {
    mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, folder, 'manifest.json'), JSON.stringify({ version, files: {} }));
    writeFileSync(join(dir, folder, 'model.json'), '{"format":"graph-model"}');
    writeFileSync(join(dir, folder, 'group1-shard1of1.bin'), Buffer.alloc(2048));
  }
  mkdirSync(join(dir, 'models', '..hidden'));
  return dir;
}

/** Each sample line of the exposition: its metric name and labels. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, labelText = '', value] = line.match(/^([\w:]+)(?:\{(.*)\})? (\S+)$/)!;
      const labels = Object.fromEntries(
        [...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k!, v!]),
      );
      return { name: name!, labels, value: Number(value) };
    });
}

const value = (text: string, name: string, labels: Record<string, string>) =>
  samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

describe('host metrics: routes and models', () => {
  it('files every path under one of the fixed routes', () => {
    expect(
      [
        '/',
        '/index.html',
        '/manifest.webmanifest',
        '/favicon.svg',
        '/icons/icon-192.png',
        '/assets/app-1234.js',
        '/assets/app-1234.css',
      ].map(routeOf),
    ).toEqual(Array(7).fill('shell'));
    expect(['/model/model.json', '/models/birds/model.onnx', '/model/group1-shard1of1.bin'].map(routeOf)).toEqual(
      Array(3).fill('model'),
    );
    expect(routeOf('/assets/tfjs-backend-wasm-simd-0123abcd.wasm')).toBe('engine-wasm');
    expect(['/embed.html', '/embed.js', '/embed-early.js'].map(routeOf)).toEqual(Array(3).fill('embed'));
    expect(routeOf('/sw.js')).toBe('service-worker');
    expect(['/nope', '/../etc/passwd', '/modelx', null].map(routeOf)).toEqual(Array(4).fill('other'));
  });

  it("counts a model download only for a full GET of a shipped model's graph, with its manifest's version", () => {
    const dir = site();
    try {
      const models = shippedModels(dir);
      expect([...models.entries()]).toEqual([
        ['/model/', { id: 'default', version: 'aaaaaaaaaaaaaaaa' }],
        ['/models/birds/', { id: 'birds', version: 'bbbbbbbbbbbbbbbb' }],
      ]);
      expect(modelDownloaded('/models/birds/model.json', 200, models)).toEqual({
        id: 'birds',
        version: 'bbbbbbbbbbbbbbbb',
      });
      expect(modelDownloaded('/model/model.json', 304, models)).toBeNull();
      expect(modelDownloaded('/model/model.json', 206, models)).toBeNull();
      expect(modelDownloaded('/model/group1-shard1of1.bin', 200, models)).toBeNull();
      expect(modelDownloaded('/models/other/model.json', 200, models)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes METRICS_PORT only as a port of its own', () => {
    expect(metricsPort(undefined, 4173)).toBeNull();
    expect(metricsPort('9464', 4173)).toBe(9464);
    for (const bad of ['0x10', '-1', '70000', '9464 ', 'abc', '1e3'])
      expect(() => metricsPort(bad, 4173), bad).toThrow(/METRICS_PORT/);
    expect(() => metricsPort('4173', 4173)).toThrow(/own port/);
  });
});

describe('host metrics under hostile requests', () => {
  const dir = site();
  let metrics: HostMetrics;
  let app: Server;
  let scrape: Server;
  let port: number;
  let scrapePort: number;

  beforeAll(async () => {
    metrics = createHostMetrics(dir);
    app = await serve({ dir, host: '127.0.0.1', port: 0, settings: DEFAULT_SETTINGS, onServed: metrics.record });
    scrape = await serveMetrics(metrics, '127.0.0.1', 0);
    port = (app.address() as { port: number }).port;
    scrapePort = (scrape.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((done) => app.close(done));
    await new Promise((done) => scrape.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  const exposition = async () => (await fetch(`http://127.0.0.1:${scrapePort}/metrics`)).text();

  it('rises by exactly the requests served, by route and status, with the bytes sent', async () => {
    const before = await exposition();
    const gets = [
      '/',
      '/model/model.json',
      '/model/model.json',
      '/models/birds/model.json',
      '/model/group1-shard1of1.bin',
      '/assets/tfjs-backend-wasm-simd-0123abcd.wasm',
      '/sw.js',
      '/missing',
      '/x?token=secret',
    ];
    for (const path of gets) await (await fetch(`http://127.0.0.1:${port}${path}`)).arrayBuffer();
    await fetch(`http://127.0.0.1:${port}/model/model.json`, { method: 'HEAD' });
    await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' });
    const after = await exposition();
    const rise = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);

    expect(rise('glimpse_http_requests_total')).toBe(gets.length + 2);
    expect(rise('glimpse_http_requests_total', { route: 'model', status: '200' })).toBe(5);
    expect(rise('glimpse_http_requests_total', { route: 'other', status: '404' })).toBe(2);
    expect(rise('glimpse_http_requests_total', { route: 'shell', status: '405' })).toBe(1);
    expect(rise('glimpse_http_request_duration_seconds_count')).toBe(gets.length + 2);
    expect(rise('glimpse_http_response_bytes_total', { route: 'engine-wasm' })).toBe(1000);
    // Two model.json, one birds model.json, one shard of 2048 bytes; the HEAD sends no body.
    expect(rise('glimpse_http_response_bytes_total', { route: 'model' })).toBe(3 * 24 + 2048);
    expect(rise('glimpse_model_downloads_total', { model: 'default', version: 'aaaaaaaaaaaaaaaa' })).toBe(2);
    expect(rise('glimpse_model_downloads_total', { model: 'birds', version: 'bbbbbbbbbbbbbbbb' })).toBe(1);
    expect(samples(after).some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
  });

  it('never takes a label value from a path, query, header or address', async () => {
    const rand = seededRandom(33);
    for (let i = 0; i < 300; i++) await rawRequest(port, randomRequest(rand, '/model/group1-shard1of1.bin', 2048));
    const get = (target: string, headers: string[] = []) =>
      rawRequest(
        port,
        Buffer.from(
          [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers, 'Connection: close', '', ''].join('\r\n'),
        ),
      );
    await get('/model/model.json?v=evil"}\nglimpse_injected 1');
    await get('/models/..hidden/model.json');
    await get('/models/birds/../../model/model.json');
    await get(`/${'a'.repeat(3000)}`, ['X-Forwarded-For: 203.0.113.9', 'User-Agent: secret-agent']);
    await rawRequest(port, Buffer.from('CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example\r\n\r\n'));
    await rawRequest(
      port,
      Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    );

    const text = await exposition();
    const ours = samples(text).filter((s) => s.name.startsWith('glimpse_'));
    const allowed: Record<string, (v: string) => boolean> = {
      route: (v) => (ROUTES as readonly string[]).includes(v),
      status: (v) => /^[1-5]\d\d$/.test(v) || v === 'other',
      le: (v) => /^(\d+(\.\d+)?|\+Inf)$/.test(v),
      model: (v) => ['default', 'birds'].includes(v),
      version: (v) => ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'].includes(v),
    };
    for (const sample of ours) {
      for (const [label, v] of Object.entries(sample.labels))
        expect(allowed[label]?.(v), `${sample.name} ${label}="${v}"`).toBe(true);
    }
    expect(text).not.toMatch(/evil|secret|203\.0\.113|127\.0\.0\.1|injected|hidden|a{20}/);
    // Series stay few whatever was asked: routes × statuses seen, not paths.
    expect(
      new Set(ours.filter((s) => s.name === 'glimpse_http_requests_total').map((s) => JSON.stringify(s.labels))).size,
    ).toBeLessThan(ROUTES.length * 12);
  });

  it('serves only /metrics on its own port, and nothing of them on the site', async () => {
    expect((await fetch(`http://127.0.0.1:${scrapePort}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${scrapePort}/metrics`, { method: 'POST' })).status).toBe(404);
    const scraped = await fetch(`http://127.0.0.1:${scrapePort}/metrics?x=1`);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
  });
});
