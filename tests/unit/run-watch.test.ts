import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  browserMemoryBound,
  nodeMemoryBound,
  RUN_BUDGET_FACTOR,
  RUN_CEILING_MS,
  RUN_FLOOR_MS,
  runBudgetMs,
  RunTimes,
  type RunMessage,
  type RunWatch,
} from '../../src/core/run-budget';
import { RunWatchdog, stoppedError, trialError, type Trip } from '../../src/lib/run-watchdog';
import { PortRunWatch } from '../../workers/run-watch';
import { trackWasmHeaps, wasmHeapBytes } from '../../workers/wasm-heaps';
import { WatchedRunner } from '../../model/watched-runner';
import type { Runner } from '../../model/runner';

const GIB = 1024 ** 3;
/** `(module (memory (export "memory") 1))`: one 64 KiB page, exported. */
const MEMORY_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x0a, 0x01, 0x06, 0x6d, 0x65,
  0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,
]);

describe('run budgets', () => {
  it('gives a first run the ceiling, then a multiple of the slowest recent run between the floor and the ceiling', () => {
    expect(runBudgetMs([])).toBe(RUN_CEILING_MS);
    expect(runBudgetMs([12, 30, 20])).toBe(RUN_FLOOR_MS);
    expect(runBudgetMs([900, 1000])).toBe(RUN_BUDGET_FACTOR * 1000);
    expect(runBudgetMs([5000])).toBe(RUN_CEILING_MS);
    expect(runBudgetMs([NaN, -1])).toBe(RUN_CEILING_MS);
    const times = new RunTimes();
    times.record(4000);
    for (let i = 0; i < 16; i++) times.record(20);
    // Only the recent runs count: the slow first run (a compile) has left the window.
    expect(times.budgetMs()).toBe(RUN_FLOOR_MS);
  });

  it('bounds a browser worker at a quarter of the device memory, 1 to 2 GiB, and a Node tool at half the machine, at most 8 GiB', () => {
    expect(browserMemoryBound(8)).toBe(2 * GIB);
    expect(browserMemoryBound(4)).toBe(GIB);
    expect(browserMemoryBound(0.5)).toBe(GIB);
    expect(browserMemoryBound(undefined)).toBe(2 * GIB);
    expect(nodeMemoryBound(24 * GIB)).toBe(8 * GIB);
    expect(nodeMemoryBound(4 * GIB)).toBe(2 * GIB);
    expect(nodeMemoryBound(24 * GIB, '1500')).toBe(1500 * 1024 ** 2);
    expect(nodeMemoryBound(24 * GIB, '0x10')).toBe(8 * GIB);
  });
});

/** A watch that notes what it is told. */
function noting(): RunWatch & { told: string[] } {
  const told: string[] = [];
  return { told, started: (budget) => told.push(`start ${budget}`), ended: () => told.push('end') };
}

describe('a watched runner', () => {
  it('tells every run, with its budget from its own runs, and its end even when the run fails', async () => {
    const watch = noting();
    let fail = false;
    const inner: Runner = {
      run: async () => {
        if (fail) throw new Error('the runtime gave up');
        return new Float32Array([1, 2]);
      },
      dispose: () => undefined,
    };
    const runner = new WatchedRunner(inner, watch);
    expect(runner.features).toBeUndefined();
    await runner.run(null);
    await runner.run(null);
    fail = true;
    await expect(runner.run(null)).rejects.toThrow('gave up');
    expect(watch.told).toEqual([
      `start ${RUN_CEILING_MS}`,
      'end',
      `start ${RUN_FLOOR_MS}`,
      'end',
      `start ${RUN_FLOOR_MS}`,
      'end',
    ]);
  });

  it("watches a runtime's features too, and ends with the watch's memory error", async () => {
    const watch: RunWatch = {
      started: () => undefined,
      ended: () => {
        throw Object.assign(new Error('over the bound'), { name: 'ModelMemoryError' });
      },
    };
    const runner = new WatchedRunner(
      { run: async () => new Float32Array(1), features: async () => new Float32Array(3), dispose: () => undefined },
      watch,
    );
    await expect(
      runner.features!({ data: new Uint8Array(4), width: 1, height: 1, channels: 4 }, 'pool'),
    ).rejects.toMatchObject({ name: 'ModelMemoryError' });
  });
});

describe("the worker's side: WebAssembly heaps and the port", () => {
  it('sees the memory of every instance made after it starts, however it was made, and its growth', async () => {
    trackWasmHeaps();
    const before = wasmHeapBytes();
    const { instance } = await WebAssembly.instantiate(MEMORY_MODULE);
    const memory = instance.exports.memory as WebAssembly.Memory;
    expect(wasmHeapBytes() - before).toBe(65_536);
    memory.grow(15);
    expect(wasmHeapBytes() - before).toBe(16 * 65_536);
    const other = new WebAssembly.Instance(new WebAssembly.Module(MEMORY_MODULE));
    expect(other).toBeInstanceOf(WebAssembly.Instance);
    expect(wasmHeapBytes() - before).toBe(17 * 65_536);
  });

  it('tells the page each run and its end, and a run that leaves the heaps over the bound, which it refuses with ModelMemoryError', async () => {
    trackWasmHeaps();
    const { instance } = await WebAssembly.instantiate(MEMORY_MODULE);
    const channel = new MessageChannel();
    const heard: RunMessage[] = [];
    channel.port2.on('message', (message: RunMessage) => heard.push(message));
    const bound = wasmHeapBytes() + 10 * 65_536;
    const watch = new PortRunWatch(channel.port1 as unknown as MessagePort, 'stored-1', () => 0, bound);
    watch.started(1234);
    watch.ended();
    watch.started(5678);
    (instance.exports.memory as WebAssembly.Memory).grow(20);
    expect(() => watch.ended()).toThrow(
      expect.objectContaining({
        name: 'ModelMemoryError',
        message: expect.stringMatching(/MB after one image, over the \d+ MB this device allows/),
      }),
    );
    await expect.poll(() => heard.length).toBe(4);
    expect(heard.map((m) => m.type)).toEqual(['run', 'idle', 'run', 'memory']);
    expect(heard[0]).toMatchObject({ budgetMs: 1234, model: 'stored-1' });
    expect(heard[3]).toMatchObject({ id: heard[2]!.id, model: 'stored-1', boundBytes: bound });
    expect((heard[3] as { bytes: number }).bytes).toBeGreaterThan(bound);
    channel.port2.close();
  });
});

describe("the page's watchdog", () => {
  function watched(): { tell: (m: RunMessage) => void; trips: Trip[]; watchdog: RunWatchdog; close: () => void } {
    const channel = new MessageChannel();
    const trips: Trip[] = [];
    const watchdog = new RunWatchdog(channel.port1 as unknown as MessagePort, (trip) => trips.push(trip));
    return { tell: (m) => channel.port2.postMessage(m), trips, watchdog, close: () => channel.port2.close() };
  }

  it('trips once when a run outlasts its budget, naming the model; a run that ends in time does not', async () => {
    const { tell, trips, watchdog, close } = watched();
    tell({ type: 'run', id: 1, budgetMs: 30, model: 'stored-1' });
    tell({ type: 'idle', id: 1 });
    await new Promise((done) => setTimeout(done, 80));
    expect(trips).toEqual([]);
    // busyMs: how long the oldest run still going has taken (a model choice does not wait behind one).
    tell({ type: 'run', id: 2, budgetMs: 60_000, model: 'stored-1' });
    await expect.poll(() => watchdog.busyMs()).toBeGreaterThan(0);
    // A model being chosen is not held up by its own warm-up run: busyMs leaves that model out when asked.
    expect(watchdog.busyMs('stored-1')).toBe(0);
    tell({ type: 'idle', id: 2 });
    await expect.poll(() => watchdog.busyMs()).toBe(0);
    tell({ type: 'run', id: 3, budgetMs: 40, model: 'stored-1' });
    tell({ type: 'run', id: 4, budgetMs: 40, model: 'stored-1' });
    await expect.poll(() => trips.length).toBe(1);
    await new Promise((done) => setTimeout(done, 80));
    expect(trips).toEqual([{ kind: 'timeout', detail: expect.stringMatching(/ran for over 0 s/), model: 'stored-1' }]);
    expect(watchdog.busyMs()).toBe(0);
    close();
  });

  it('trips on a memory report, and names the errors for a running model and for a trial', async () => {
    const { tell, trips, close } = watched();
    tell({ type: 'run', id: 1, budgetMs: 60_000, model: 'import-trial' });
    tell({ type: 'memory', id: 1, bytes: 3 * GIB, boundBytes: 2 * GIB, model: 'import-trial' });
    await expect.poll(() => trips.length).toBe(1);
    expect(trips[0]).toEqual({
      kind: 'memory',
      detail: 'after one image its runtime held 3072 MB, over the 2048 MB this device allows',
      model: 'import-trial',
    });
    expect(stoppedError(trips[0]!)).toMatchObject({
      name: 'ModelMemoryError',
      message: expect.stringMatching(/; it was stopped$/),
    });
    expect(trialError(trips[0]!)).toMatchObject({
      name: 'ModelFormatError',
      message: expect.stringMatching(/failed its trial.*not imported/),
    });
    expect(stoppedError({ kind: 'timeout', detail: 'x', model: 'm' }).name).toBe('ModelTimeoutError');
    close();
  });
});
