import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/stats';
import { randomRequest, rawRequest } from '../helpers/http-fuzz';
import { startApp } from '../../harness/app-server';

/**
 * Hostile clients against `npm start`: raw request lines, paths, headers and ranges
 * that a browser or curl would never send. Every one must be answered (the host never
 * exits), errors must carry the security headers, and ranges must be exact.
 * GLIMPSE_FUZZ_REQUESTS=20000 runs a longer campaign.
 */
const REQUESTS = Number(process.env.GLIMPSE_FUZZ_REQUESTS ?? 2_000);
const DEADLINE_MS = Math.max(60_000, REQUESTS * 30);
const SHARD = '/model/group1-shard1of1.bin';
const shard = readFileSync(join(resolve(import.meta.dirname, '../../dist'), SHARD));

describe('npm start under hostile requests', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  let port: number;
  beforeAll(async () => {
    app = await startApp();
    port = Number(new URL(app.url).port);
  });
  afterAll(() => app?.stop());

  const get = (target: string, headers: string[] = []) =>
    rawRequest(
      port,
      Buffer.from([`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers, 'Connection: close', '', ''].join('\r\n')),
    );

  it('survives the requests that used to kill it, answering 4xx with the security headers', async () => {
    for (const target of ['//x:99999/', '//[/']) {
      const answer = await get(target);
      expect(answer?.status, target).toBe(404);
      expect(answer?.headers.get('content-security-policy'), target).toContain("default-src 'none'");
    }
    const reversed = await get(SHARD, ['Range: bytes=500-100']);
    expect(reversed?.status).toBe(416);
    expect(reversed?.headers.get('content-range')).toBe(`bytes */${shard.length}`);
    expect(reversed?.headers.get('x-content-type-options')).toBe('nosniff');
    const star = await rawRequest(port, Buffer.from('OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(star?.status).toBe(400);
    const big = await get('/', [`X-Big: ${'b'.repeat(20_000)}`]);
    expect(big?.status).toBe(431);
    expect(big?.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await get('/'))?.status).toBe(200);
  });

  it('implements byte ranges exactly', async () => {
    const n = shard.length;
    const cases: [string, number, Buffer | null][] = [
      ['bytes=0-0', 206, shard.subarray(0, 1)],
      ['bytes=-100', 206, shard.subarray(n - 100)],
      ['bytes=100-199', 206, shard.subarray(100, 200)],
      [`bytes=${n - 10}-`, 206, shard.subarray(n - 10)],
      [`bytes=0-${n + 100}`, 206, shard],
      ['bytes=abc', 200, shard],
      ['bytes=0-1,5-6', 200, shard],
      [`bytes=${n}-`, 416, null],
    ];
    for (const [range, status, body] of cases) {
      const answer = await get(SHARD, [`Range: ${range}`]);
      expect(answer?.status, range).toBe(status);
      if (body) expect(answer!.body.equals(body), range).toBe(true);
      if (status === 206)
        expect(answer?.headers.get('content-range'), range).toMatch(new RegExp(`^bytes \\d+-\\d+/${n}$`));
    }
  });

  it(`answers ${REQUESTS} random malformed requests and is still up`, { timeout: DEADLINE_MS + 30_000 }, async () => {
    const deadline = Date.now() + DEADLINE_MS;
    const unanswered: number[] = [];
    const bare: string[] = [];
    let sent = 0;
    async function lane(): Promise<void> {
      while (sent < REQUESTS && Date.now() < deadline) {
        const seed = sent++;
        const answer = await rawRequest(port, randomRequest(seededRandom(seed), SHARD, shard.length));
        if (!answer) unanswered.push(seed);
        else if (answer.status >= 400 && !answer.headers.get('content-security-policy')?.includes("default-src 'none'"))
          bare.push(`seed ${seed}: ${answer.status}`);
      }
    }
    await Promise.all(Array.from({ length: 16 }, lane));
    expect(sent, 'requests sent before the deadline').toBe(REQUESTS);
    expect(unanswered, 'seeds the host did not answer').toEqual([]);
    expect(bare, 'error responses without the security headers').toEqual([]);
    const index = await fetch(app.url);
    expect(index.status).toBe(200);
  });
});
