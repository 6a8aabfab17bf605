import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hostAnswers, Reachability, RECHECK_MS } from '../../src/lib/reachability.svelte';

/** A host that answers or not, as the test says, and counts how often it was asked. */
function fakeHost() {
  const host = { up: true, asked: 0, browserOnline: true };
  const reach = new Reachability(
    async () => (host.asked++, host.up),
    () => host.browserOnline,
  );
  return { host, reach };
}

describe('the offline indicator’s state', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('goes offline when the host does not answer although the browser says online, and back when it answers again', async () => {
    const { host, reach } = fakeHost();
    host.up = false;
    await reach.check();
    expect(reach.online).toBe(false);
    host.up = true;
    await vi.advanceTimersByTimeAsync(RECHECK_MS - 1);
    expect([reach.online, host.asked]).toEqual([false, 1]);
    await vi.advanceTimersByTimeAsync(1);
    expect([reach.online, host.asked]).toEqual([true, 2]);
    await vi.advanceTimersByTimeAsync(10 * RECHECK_MS);
    expect(host.asked).toBe(2);
  });

  it('keeps asking while the host stays away', async () => {
    const { host, reach } = fakeHost();
    host.up = false;
    await reach.check();
    await vi.advanceTimersByTimeAsync(3 * RECHECK_MS);
    expect([reach.online, host.asked]).toEqual([false, 4]);
  });

  it('believes the browser’s offline at once and waits for its online event instead of asking', async () => {
    const { host, reach } = fakeHost();
    host.browserOnline = false;
    reach.wentOffline();
    expect(reach.online).toBe(false);
    await vi.advanceTimersByTimeAsync(5 * RECHECK_MS);
    expect(host.asked).toBe(0);
  });

  it('is cleared by any answered request, and a failed ask counts as unreachable', async () => {
    const reach = new Reachability(
      () => Promise.reject(new TypeError('Failed to fetch')),
      () => true,
    );
    await reach.check();
    expect(reach.online).toBe(false);
    reach.reached();
    expect(reach.online).toBe(true);
  });

  it('asks once for reasons that come together', async () => {
    const { host, reach } = fakeHost();
    await Promise.all([reach.check(), reach.check(), reach.check()]);
    expect(host.asked).toBe(1);
  });
});

describe('hostAnswers', () => {
  it('counts any HTTP answer, a 404 too, and a network error as none', async () => {
    const seen: RequestInit[] = [];
    const answering = (async (_url: string, init: RequestInit) => (
      seen.push(init),
      new Response(null, { status: 404 })
    )) as typeof fetch;
    expect(await hostAnswers('http://127.0.0.1/sw.js', answering)).toBe(true);
    expect(seen[0]).toMatchObject({ method: 'HEAD', cache: 'no-store' });
    expect(
      await hostAnswers('http://127.0.0.1/sw.js', (async () =>
        Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch),
    ).toBe(false);
  });
});
