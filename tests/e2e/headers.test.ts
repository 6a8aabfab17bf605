import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { headersFor } from '../../build/headers';
import { HEALTH_PATH, renderNginxConf } from '../../host/nginx';
import { DEFAULT_SETTINGS } from '../../build/deploy-settings';
import { connect } from 'node:net';
import { rawRequest } from '../helpers/http-fuzz';
import { freePort } from '../../harness/app-server';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');
const asset = (pattern: RegExp) => `/assets/${readdirSync(join(DIST, 'assets')).find((f) => pattern.test(f))}`;

/** Every kind of route: pages, the helper, hashed assets, wasm, the model, other public files, and misses. */
function routes(): { path: string; status: number; type?: RegExp }[] {
  return [
    { path: '/', status: 200, type: /^text\/html/ },
    { path: '/index.html', status: 200, type: /^text\/html/ },
    { path: '/embed.html', status: 200, type: /^text\/html/ },
    { path: '/embed.js', status: 200, type: /javascript/ },
    { path: asset(/^index-.*\.js$/), status: 200, type: /javascript/ },
    { path: asset(/^classifier\.worker-.*\.js$/), status: 200, type: /javascript/ },
    // The app page's own stylesheet, whatever chunk it is named after.
    {
      path: readFileSync(join(DIST, 'index.html'), 'utf8').match(/href="(\/assets\/[^"]+\.css)"/)![1]!,
      status: 200,
      type: /^text\/css/,
    },
    { path: asset(/-simd-.*\.wasm$/), status: 200, type: /^application\/wasm/ },
    { path: '/model/model.json', status: 200, type: /^application\/json/ },
    { path: '/model/group1-shard1of1.bin', status: 200 },
    { path: '/model/manifest.json', status: 200, type: /^application\/json/ },
    { path: '/favicon.svg', status: 200, type: /^image\/svg\+xml/ },
    { path: '/model/missing.bin', status: 404 },
    { path: '/assets/missing.js', status: 404 },
    { path: '/no/such/page', status: 404 },
  ];
}

async function expectHeaders(base: string): Promise<void> {
  for (const { path, status, type } of routes()) {
    const response = await fetch(new URL(path, base));
    expect(response.status, path).toBe(status);
    if (type) expect(response.headers.get('content-type'), path).toMatch(type);
    for (const [name, value] of Object.entries(headersFor(path, DEFAULT_SETTINGS))) {
      expect(response.headers.get(name), `${name} on ${path}`).toBe(value);
    }
    // A miss is a plain 404, never the app's index.html (which would load as a broken model file).
    if (status === 404) expect(await response.text(), path).not.toContain('id="app"');
  }
  const post = await fetch(base, { method: 'POST', body: 'x' });
  expect(post.status).toBe(405);
  expect(post.headers.get('content-security-policy')).toBe(
    headersFor('/', DEFAULT_SETTINGS)['Content-Security-Policy'],
  );
}

/**
 * Requests an attacker sends and a browser never would. Each must be refused with a 4xx
 * that carries the security headers; none may reveal a dotfile or directory, or echo
 * the Host header into a redirect.
 */
async function expectHostileRefused(base: string): Promise<void> {
  const port = Number(new URL(base).port);
  const csp = headersFor('/', DEFAULT_SETTINGS)['Content-Security-Policy'];
  const raw = (line: string, headers: string[] = ['Host: 127.0.0.1']) =>
    rawRequest(port, Buffer.from([line, ...headers, 'Connection: close', '', ''].join('\r\n'), 'latin1'));
  const cases: [string, Promise<Awaited<ReturnType<typeof rawRequest>>>, number[]][] = [
    ['//x:99999/', raw('GET //x:99999/ HTTP/1.1'), [404]],
    ['dotfile', raw('GET /.glimpse-settings.json HTTP/1.1'), [404]],
    ['directory without slash', raw('GET /model HTTP/1.1'), [404]],
    ['directory', raw('GET /model/ HTTP/1.1'), [404]],
    ['icons directory', raw('GET /icons/ HTTP/1.1'), [404]],
    ['Host header in a redirect', raw('GET /model HTTP/1.1', ['Host: evil.example']), [404]],
    ['encoded dot-dot', raw('GET /%2e%2e/package.json HTTP/1.1'), [400, 403, 404]],
    ['dot-dot', raw('GET /../package.json HTTP/1.1'), [400, 403, 404]],
    ['TRACE', raw('TRACE / HTTP/1.1'), [405]],
    ['no Host', raw('GET / HTTP/1.1', []), [400]],
    ['two Hosts', raw('GET / HTTP/1.1', ['Host: 127.0.0.1', 'Host: evil.example']), [400]],
    ['OPTIONS *', raw('OPTIONS * HTTP/1.1'), [400]],
    ['100 KB URL', raw(`GET /${'a'.repeat(100_000)} HTTP/1.1`), [414, 431]],
    ['20 KB header', raw('GET / HTTP/1.1', ['Host: 127.0.0.1', `X-Big: ${'b'.repeat(20_000)}`]), [400, 431, 494]],
    [
      'reversed range',
      raw('GET /model/group1-shard1of1.bin HTTP/1.1', ['Host: 127.0.0.1', 'Range: bytes=500-100']),
      [416],
    ],
  ];
  for (const [name, pending, statuses] of cases) {
    const answer = await pending;
    expect(statuses, `${name}: status ${answer?.status}`).toContain(answer?.status);
    expect(answer?.headers.get('content-security-policy'), name).toBe(csp);
    expect(answer?.headers.get('x-content-type-options'), name).toBe('nosniff');
    expect(answer?.headers.get('location') ?? '', name).not.toContain('evil');
  }
}

describe('response headers', () => {
  it('npm start sends the header list on every route and error', async () => {
    await expectHeaders(inject('baseUrl'));
  });

  it('npm start refuses hostile requests with the security headers', async () => {
    await expectHostileRefused(inject('baseUrl'));
  });

  describe('Debian nginx with the generated deploy config', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'glimpse-nginx-'));
    let base: string;
    let statusPort: number;

    beforeAll(async () => {
      const port = await freePort();
      statusPort = await freePort();
      mkdirSync(join(prefix, 'tmp'));
      const conf = renderNginxConf(DEFAULT_SETTINGS, {
        root: DIST,
        listen: `127.0.0.1:${port}`,
        pid: join(prefix, 'nginx.pid'),
        errorLog: join(prefix, 'error.log'),
        mimeTypes: '/etc/nginx/mime.types',
        tempDir: join(prefix, 'tmp'),
        statusListen: `127.0.0.1:${statusPort}`,
      });
      writeFileSync(join(prefix, 'nginx.conf'), conf);
      const started = spawnSync(
        'nginx',
        ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')],
        { encoding: 'utf8' },
      );
      expect(started.status, started.stderr).toBe(0);
      base = `http://127.0.0.1:${port}/`;
    });
    afterAll(() => {
      spawnSync('nginx', [
        '-p',
        prefix,
        '-c',
        join(prefix, 'nginx.conf'),
        '-e',
        join(prefix, 'error.log'),
        '-s',
        'quit',
      ]);
      rmSync(prefix, { recursive: true, force: true });
    });

    it('sends the same headers on every route and error', async () => {
      await expectHeaders(base);
    });

    it('refuses hostile requests with the security headers', async () => {
      await expectHostileRefused(base);
    });

    it('sends nothing to an HTTP/0.9 request, whose answer could carry no headers', async () => {
      const answer = await new Promise<Buffer>((done) => {
        const socket = connect(Number(new URL(base).port), '127.0.0.1');
        const chunks: Buffer[] = [];
        socket.on('data', (chunk) => chunks.push(chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => done(Buffer.concat(chunks)));
        socket.write('GET /\r\n');
      });
      expect(answer.toString('latin1')).toBe('');
    });

    it('answers the health probe, and keeps its request counters off the public port', async () => {
      const health = await fetch(new URL(HEALTH_PATH, base));
      expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
      expect(health.headers.get('content-security-policy')).toBe(
        headersFor(HEALTH_PATH, DEFAULT_SETTINGS)['Content-Security-Policy'],
      );
      expect((await fetch(new URL('/stub_status', base))).status).toBe(404);
      const counters = await fetch(`http://127.0.0.1:${statusPort}/stub_status`);
      expect(await counters.text()).toMatch(/^Active connections: \d+/);
    });

    it('is the config committed in deploy/nginx.conf (regenerate with npm run nginx-conf)', () => {
      expect(readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8')).toBe(renderNginxConf(DEFAULT_SETTINGS));
    });
  });
});
