import { describe, expect, inject, it } from 'vitest';
import type { Request } from 'playwright-core';
import { openPage } from '../../harness/browser';
import { waitReady } from './app';

const baseUrl = inject('baseUrl');

describe('a first visit', () => {
  it('asks for the model from the page while the worker starts, and downloads its weights once', async () => {
    const requests: Request[] = [];
    const { page, close } = await openPage(baseUrl, {
      init: async (p) => p.on('requestfinished', (r) => void requests.push(r)),
    });
    try {
      await waitReady(page);
      const started = (r: Request) => r.timing().startTime;
      const model = (pattern: RegExp) =>
        requests.filter((r) => pattern.test(r.url())).sort((a, b) => started(a) - started(b));
      const SHARD = /\/model\/[^/?]+\.bin\?v=/;
      const MANIFEST = /\/model\/manifest\.json$/;
      // The page reads the manifest and asks for the weights; the worker, once started, reads the manifest again…
      // (finished events may arrive after ready on a busy machine)
      await expect.poll(() => model(MANIFEST).length).toBe(2);
      await expect.poll(() => model(SHARD).length).toBeGreaterThanOrEqual(2);
      const [shard, manifests] = [model(SHARD), model(MANIFEST)];
      expect(started(shard[0]!)).toBeLessThan(started(manifests[1]!));
      // …and the worker's own request is answered from the HTTP cache: the bytes cross the network once.
      // A response read from the HTTP cache reports a negative body size (no bytes, minus its headers).
      const bodies = await Promise.all(shard.map(async (r) => Math.max(0, (await r.sizes()).responseBodySize)));
      const shardBytes = Math.max(...bodies);
      expect(shardBytes).toBeGreaterThan(3_000_000);
      expect(bodies.reduce((a, b) => a + b, 0)).toBe(shardBytes);
    } finally {
      await close();
    }
  });
});
