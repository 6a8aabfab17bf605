import { describe, expect, it, vi } from 'vitest';
import type { BackendChoice, BackendName, GpuProbe } from '../../src/core/backends';
import { BackendSelector, type ChoiceMemory, type SelectableEngine } from '../../workers/backend-selector';
import {
  CANDIDATE_WARM_RUNS,
  fallbackOrder,
  PAIRED_RUNS,
  trialCandidates,
  TRIAL_FIRST_RUN_CAP_MS,
  TRIAL_QUIET_MS,
} from '../../model/backend-choice';

const NO_GPU: GpuProbe[] = [
  { backend: 'webgpu', kind: 'software', device: 'google swiftshader' },
  { backend: 'webgl', kind: 'software', device: 'SwiftShader' },
];
const REAL_GPU: GpuProbe[] = [
  { backend: 'webgpu', kind: 'hardware', device: 'nvidia hopper' },
  { backend: 'webgl', kind: 'hardware', device: 'ANGLE (NVIDIA H200)' },
];

/** An engine whose backends take the given first-run and warm times, or fail to start. */
class FakeEngine implements SelectableEngine {
  readonly prepared = new Set<BackendName>();
  selected: BackendName | null = null;
  readonly log: string[] = [];
  readonly waiting: BackendName[] = [];
  /** Resolved one step at a time by the test, to interleave an explicit choice with a trial. */
  gate: Promise<void> = Promise.resolve();

  constructor(
    private readonly speeds: Partial<Record<BackendName, { first: number; warm: number } | 'broken'>>,
    /** What the model offers besides the GPUs: LiteRT where it comes with a .tflite. */
    private readonly cpu: BackendName[] = [],
  ) {}

  cpuCandidates() {
    return this.cpu;
  }

  gpuCandidates(probes: readonly GpuProbe[]) {
    return trialCandidates(probes);
  }

  startOrder(preferred: BackendName) {
    return fallbackOrder(preferred);
  }

  /** Images still queued; the selector must wait for them before it tries a GPU. */
  busy: Promise<void> = Promise.resolve();
  /** The quiet periods the selector asked to wait for. */
  quiet: number[] = [];
  idle(quietMs: number) {
    this.quiet.push(quietMs);
    return this.busy;
  }
  /** The first answer; nothing is probed or tried before it. */
  firstAnswer: Promise<void> = Promise.resolve();
  answered() {
    return this.firstAnswer;
  }

  async prepare(backend: BackendName) {
    this.waiting.push(backend);
    await this.gate;
    this.log.push(`prepare ${backend}`);
    const speed = this.speeds[backend];
    if (!speed || speed === 'broken') throw new Error(`${backend} will not start`);
    this.prepared.add(backend);
    return speed.first;
  }
  /** Every timing run asked for, in order. */
  readonly timed: BackendName[] = [];
  async time(backend: BackendName, runs = 3) {
    for (let i = 0; i < runs; i++) this.timed.push(backend);
    const speed = this.speeds[backend];
    if (!speed || speed === 'broken') throw new Error('not prepared');
    return speed.warm;
  }
  /** Like Engine.select, builds the model again if it was freed. */
  async select(backend: BackendName) {
    this.prepared.add(backend);
    this.selected = backend;
    for (const other of this.prepared) if (other !== backend) this.prepared.delete(other);
  }
  /** What the selector started loading ahead of a trial. */
  readonly preloaded: BackendName[] = [];
  preload(backend: BackendName) {
    this.preloaded.push(backend);
  }
  async drop(backend: BackendName) {
    if (backend !== this.selected) this.prepared.delete(backend);
  }
}

function fakeMemory(initial?: BackendName): ChoiceMemory & { value: BackendName | undefined } {
  const memory = {
    value: initial,
    recall: async () => memory.value,
    remember: async (backend: BackendName) => void (memory.value = backend),
    forget: async () => void (memory.value = undefined),
  };
  return memory;
}

function selector(engine: FakeEngine, probes: GpuProbe[], memory = fakeMemory()) {
  const notified: BackendChoice[] = [];
  const s = new BackendSelector({
    engine,
    probe: async () => probes,
    memory: () => memory,
    warming: () => undefined,
    notify: (c) => notified.push(c),
  });
  return { s, notified, memory };
}

const fast = { first: 300, warm: 50 };

describe('BackendSelector', () => {
  it('answers on wasm at once, then with no hardware GPU settles on it as no-gpu', async () => {
    const engine = new FakeEngine({ wasm: fast });
    const { s, notified } = selector(engine, NO_GPU);
    expect(await s.start('auto')).toMatchObject({ backend: 'wasm', reason: 'measuring' });
    await s.settled();
    expect(notified).toEqual([
      {
        backend: 'wasm',
        reason: 'no-gpu',
        timings: {},
        skipped: { webgpu: 'software: google swiftshader', webgl: 'software: SwiftShader' },
      },
    ]);
    expect(engine.log).toEqual(['prepare wasm']);
  });

  it('with no hardware GPU, times LiteRT against wasm, switches to it when clearly faster and remembers it', async () => {
    const engine = new FakeEngine({ wasm: fast, litert: { first: 120, warm: 27 } }, ['litert']);
    const { s, notified, memory } = selector(engine, NO_GPU);
    await s.start('auto');
    await s.settled();
    expect(notified).toEqual([
      {
        backend: 'litert',
        reason: 'measured',
        timings: { wasm: 50, litert: 27 },
        skipped: { webgpu: 'software: google swiftshader', webgl: 'software: SwiftShader' },
      },
    ]);
    expect(engine.selected).toBe('litert');
    expect(memory.value).toBe('litert');
    // Its runtime started loading at once; then a few more runs of it, and its runs alternate with wasm's, so that a busy moment slows both alike.
    expect(engine.preloaded).toEqual(['litert']);
    expect(engine.timed).toEqual([
      ...Array.from({ length: CANDIDATE_WARM_RUNS }, () => 'litert'),
      ...Array.from({ length: PAIRED_RUNS }, () => ['wasm', 'litert'] as const).flat(),
    ]);
  });

  it('probes and times LiteRT right after the first answer, between photos, and a GPU only once the user pauses', async () => {
    const engine = new FakeEngine({ wasm: fast, litert: { first: 120, warm: 27 }, webgpu: { first: 900, warm: 5 } }, [
      'litert',
    ]);
    let answer = () => undefined as void;
    engine.firstAnswer = new Promise((done) => (answer = done));
    let pause = () => undefined as void;
    engine.busy = new Promise((done) => (pause = done));
    let probed = false;
    const notified: BackendChoice[] = [];
    const s = new BackendSelector({
      engine,
      probe: async () => ((probed = true), REAL_GPU.slice(0, 1)),
      memory: () => fakeMemory(),
      warming: () => undefined,
      notify: (c) => notified.push(c),
    });
    await s.start('auto');
    await new Promise((done) => setTimeout(done, 10));
    // No first answer yet: a first visit's photo waits for nothing.
    expect(probed).toBe(false);
    expect(engine.log).toEqual(['prepare wasm']);
    answer();
    // LiteRT is timed and chosen while photos are still queued; the GPU waits for a pause.
    await vi.waitFor(() =>
      expect(notified).toEqual([
        { backend: 'litert', reason: 'measuring', timings: { wasm: 50, litert: 27 }, skipped: {} },
      ]),
    );
    expect(engine.selected).toBe('litert');
    expect(engine.quiet).toEqual([TRIAL_QUIET_MS]);
    expect(engine.log).toEqual(['prepare wasm', 'prepare litert']);
    pause();
    await s.settled();
    expect(notified.at(-1)).toMatchObject({
      backend: 'webgpu',
      reason: 'measured',
      timings: { wasm: 50, litert: 27, webgpu: 5 },
    });
  });

  it('keeps wasm when LiteRT is not clearly faster, or fails to start', async () => {
    for (const litert of [{ first: 120, warm: 48 }, 'broken'] as const) {
      const engine = new FakeEngine({ wasm: fast, litert }, ['litert']);
      const { s, notified, memory } = selector(engine, NO_GPU);
      await s.start('auto');
      await s.settled();
      expect(notified.at(-1)).toMatchObject({ backend: 'wasm', reason: 'measured' });
      expect(engine.prepared.has('litert')).toBe(false);
      expect(memory.value).toBe('wasm');
    }
  });

  it('times LiteRT next to the hardware GPUs, and the fastest of all wins', async () => {
    const engine = new FakeEngine(
      {
        wasm: fast,
        webgpu: { first: 900, warm: 5 },
        webgl: { first: 900, warm: 10 },
        litert: { first: 120, warm: 27 },
      },
      ['litert'],
    );
    const { s, notified } = selector(engine, REAL_GPU);
    await s.start('auto');
    await s.settled();
    expect(notified.at(-1)).toMatchObject({
      backend: 'webgpu',
      reason: 'measured',
      timings: { wasm: 50, webgpu: 5, webgl: 10, litert: 27 },
    });
  });

  it('switches to a remembered backend without a trial', async () => {
    const engine = new FakeEngine({ wasm: fast, webgpu: { first: 900, warm: 5 }, webgl: { first: 900, warm: 10 } });
    const { s, notified } = selector(engine, REAL_GPU, fakeMemory('webgl'));
    await s.start('auto');
    await s.settled();
    expect(notified.map((c) => [c.backend, c.reason])).toEqual([['webgl', 'remembered']]);
    expect(engine.selected).toBe('webgl');
    expect(engine.log).toEqual(['prepare wasm', 'prepare webgl']);
  });

  it('forgets a remembered backend that fails, and measures afresh', async () => {
    const engine = new FakeEngine({ wasm: fast, webgpu: { first: 900, warm: 5 }, webgl: 'broken' });
    const { s, notified, memory } = selector(engine, REAL_GPU, fakeMemory('webgl'));
    await s.start('auto');
    await s.settled();
    expect(notified.map((c) => [c.backend, c.reason])).toEqual([['webgpu', 'measured']]);
    expect(memory.value).toBe('webgpu');
    expect(engine.prepared).toEqual(new Set(['webgpu']));
  });

  it('switches to a GPU proven clearly faster, remembers it and frees the losers', async () => {
    const engine = new FakeEngine({ wasm: fast, webgpu: { first: 900, warm: 8 }, webgl: { first: 900, warm: 20 } });
    const { s, notified, memory } = selector(engine, REAL_GPU);
    await s.start('auto');
    await s.settled();
    expect(notified).toEqual([
      { backend: 'webgpu', reason: 'measured', timings: { wasm: 50, webgpu: 8, webgl: 20 }, skipped: {} },
    ]);
    expect(memory.value).toBe('webgpu');
    expect(engine.prepared).toEqual(new Set(['webgpu']));
  });

  it('keeps wasm when the GPUs are not clearly faster', async () => {
    const engine = new FakeEngine({ wasm: fast, webgpu: { first: 900, warm: 48 }, webgl: { first: 900, warm: 70 } });
    const { s, notified } = selector(engine, REAL_GPU);
    await s.start('auto');
    await s.settled();
    expect(notified.map((c) => [c.backend, c.reason])).toEqual([['wasm', 'measured']]);
    expect(engine.selected).toBe('wasm');
  });

  it('skips a candidate whose compiling first run is already too slow, saying why', async () => {
    const engine = new FakeEngine({
      wasm: fast,
      webgpu: { first: TRIAL_FIRST_RUN_CAP_MS + 1, warm: 1 },
      webgl: { first: 900, warm: 20 },
    });
    const { s, notified } = selector(engine, REAL_GPU);
    await s.start('auto');
    await s.settled();
    expect(notified[0]).toMatchObject({
      backend: 'webgl',
      reason: 'measured',
      skipped: { webgpu: `first run took ${TRIAL_FIRST_RUN_CAP_MS + 1} ms` },
    });
    expect(notified[0]!.timings.webgpu).toBeUndefined();
  });

  it('lets an explicit choice made during a trial win over the trial', async () => {
    const engine = new FakeEngine({
      wasm: fast,
      webgpu: { first: 900, warm: 5 },
      webgl: { first: 900, warm: 10 },
      cpu: { first: 2000, warm: 900 },
    });
    const { s, notified } = selector(engine, REAL_GPU);
    await s.start('auto');
    const trial = s.settled();
    let open!: () => void;
    engine.gate = new Promise((resolve) => (open = resolve));
    // The trial is preparing webgpu when the user forces cpu.
    await vi.waitFor(() => expect(engine.waiting).toContain('webgpu'));
    const forced = s.start('cpu');
    open();
    expect(await forced).toMatchObject({ backend: 'cpu', reason: 'forced' });
    await trial;
    expect(s.choice).toMatchObject({ backend: 'cpu', reason: 'forced' });
    expect(notified).toEqual([]);
    expect(engine.selected).toBe('cpu');
    expect(engine.prepared).toEqual(new Set(['cpu']));
  });

  it('falls back to the next backend that starts when the forced one will not', async () => {
    const engine = new FakeEngine({ wasm: fast, webgpu: 'broken' });
    const { s } = selector(engine, REAL_GPU);
    expect(await s.start('webgpu')).toMatchObject({ backend: 'wasm', reason: 'fallback' });
  });

  it('fails with ModelLoadError when no backend starts', async () => {
    const { s } = selector(new FakeEngine({}), NO_GPU);
    await expect(s.start('auto')).rejects.toMatchObject({ name: 'ModelLoadError' });
  });
});
