import { ModelLoadError } from '../src/core/errors';
import {
  CANDIDATE_WARM_RUNS,
  fastest,
  PAIRED_RUNS,
  skippedByProbe,
  TRIAL_FIRST_RUN_CAP_MS,
  TRIAL_QUIET_MS,
} from '../model/backend-choice';
import { median } from '../src/core/stats';
import type { BackendChoice, BackendName, BackendPreference, GpuProbe } from '../src/core/backends';

/** What the selector needs of the engine: build and warm a backend, time it, switch to it, free it. */
export interface SelectableEngine {
  prepare(backend: BackendName): Promise<number>;
  time(backend: BackendName, runs?: number): Promise<number>;
  select(backend: BackendName): Promise<void>;
  drop(backend: BackendName): Promise<void>;
  /** Starts loading a backend's runtime ahead of its trial, where that happens outside the queue (LiteRT's). */
  preload(backend: BackendName): void;
  /** Backends worth timing whatever the GPUs (LiteRT on the model's .tflite). */
  cpuCandidates(): BackendName[];
  /** The GPU backends this model can run on, from what probing found (tfjs's, or ONNX Runtime's). */
  gpuCandidates(probes: readonly GpuProbe[]): BackendName[];
  /** The order backends are tried in when `preferred` will not start. */
  startOrder(preferred: BackendName): BackendName[];
  /** Resolves once no image waits and none was asked for in `quietMs`: GPU trials, which hold the worker for seconds, never delay an answer. */
  idle(quietMs: number): Promise<void>;
  /** Resolves once the first image has been answered, or `quietMs` passed with none asked for. */
  answered(quietMs: number): Promise<void>;
}

/** Where the measured winner is kept between visits, per device. */
export interface ChoiceMemory {
  recall(): Promise<BackendName | undefined>;
  remember(backend: BackendName): Promise<void>;
  forget(): Promise<void>;
}

export interface SelectorDeps {
  engine: SelectableEngine;
  /** Probes the GPUs once; creating a GPU context blocks the worker for a while. */
  probe: () => Promise<GpuProbe[]>;
  /** The memory for this device, which the probes identify. */
  memory: (probes: readonly GpuProbe[]) => ChoiceMemory;
  /** Hears each backend as it starts warming up. */
  warming: (backend: BackendName) => void;
  /** Hears every settled choice after the first: a switch, or the end of measuring. */
  notify: (choice: BackendChoice) => void;
}

/**
 * Chooses the backend that classifies. An explicit preference is honoured (or the next
 * backend that works). 'auto' answers at once on wasm; once the first answer is out it
 * probes the GPUs and switches to the backend remembered for this device, or times the
 * engine's CPU candidates (LiteRT) against the current one at once, between the user's
 * photos, and then the hardware GPUs when the user pauses, keeping each clear winner; or it
 * settles when there is nothing to try. Every explicit choice starts a new generation, so a
 * background trial that finishes later cannot override it.
 */
export class BackendSelector {
  private generation = 0;
  private chosen: BackendChoice | null = null;
  private background: Promise<void> = Promise.resolve();
  private probesOnce: Promise<GpuProbe[]> | null = null;

  constructor(private readonly deps: SelectorDeps) {}

  get choice(): BackendChoice | null {
    return this.chosen;
  }

  /** Resolves once the background choice started by the latest `start('auto')` is over. */
  settled(): Promise<void> {
    return this.background;
  }

  async start(preference: BackendPreference): Promise<BackendChoice> {
    const started = ++this.generation;
    const backend = await this.startFirstWorking(
      this.deps.engine.startOrder(preference === 'auto' ? 'wasm' : preference),
    );
    if (preference !== 'auto') {
      return (this.chosen = {
        backend,
        reason: backend === preference ? 'forced' : 'fallback',
        timings: {},
        skipped: {},
      });
    }
    this.chosen = { backend, reason: 'measuring', timings: {}, skipped: {} };
    this.background = this.chooseInBackground(backend, started).catch(() => undefined);
    return this.chosen;
  }

  /** What probing the GPUs found (probing once, now, if the automatic choice has not yet). */
  probes(): Promise<GpuProbe[]> {
    return (this.probesOnce ??= this.deps.probe().catch(() => []));
  }

  /** Prepares the first backend in `order` that starts and runs the model. */
  private async startFirstWorking(order: readonly BackendName[]): Promise<BackendName> {
    const { engine } = this.deps;
    for (const backend of order) {
      try {
        this.deps.warming(backend);
        await engine.prepare(backend);
        await engine.select(backend);
        return backend;
      } catch {
        await engine.drop(backend);
      }
    }
    throw new ModelLoadError('no backend could run the model');
  }

  private settle(started: number, choice: BackendChoice): void {
    if (started !== this.generation) return;
    this.chosen = choice;
    this.deps.notify(choice);
  }

  private async chooseInBackground(current: BackendName, started: number): Promise<void> {
    const { engine } = this.deps;
    // Not before the first answer (a first visit's photo waits for nothing), but right after it:
    // a user who then drops a batch meets the faster engine within it (2 s on 2 cores, docs/PERFORMANCE.md).
    await engine.answered(TRIAL_QUIET_MS);
    const found = await this.probes();
    const memory = this.deps.memory(found);
    const remembered = await memory.recall();
    if (started !== this.generation) return;
    if (remembered && remembered !== current) {
      try {
        await engine.prepare(remembered);
        if (started !== this.generation) return;
        await engine.select(remembered);
        return this.settle(started, {
          backend: remembered,
          reason: 'remembered',
          timings: {},
          skipped: skippedByProbe(found),
        });
      } catch {
        // A remembered backend that no longer works (a driver update, say) is measured afresh.
        await engine.drop(remembered);
        await memory.forget();
      }
    }
    if (this.candidates(found).some((b) => b !== current)) return this.measure(current, found, memory, started);
    this.settle(started, {
      backend: current,
      reason: remembered === current ? 'remembered' : 'no-gpu',
      timings: {},
      skipped: skippedByProbe(found),
    });
  }

  private candidates(found: readonly GpuProbe[]): BackendName[] {
    return [...this.deps.engine.cpuCandidates(), ...this.deps.engine.gpuCandidates(found)];
  }

  /**
   * Times the CPU candidates against the current backend at once (their runs take turns with
   * the user's photos in the engine's queue), switches to a clear winner, then times the
   * hardware GPUs each after a quiet moment (compiling shaders holds the worker for seconds),
   * keeps the clear winner of all and remembers it.
   */
  /**
   * Median ms of each, their runs alternating one at a time through the queue (the user's photos
   * take turns with them), so that whatever else the machine does (a download, a compile, the
   * page decoding) slows both alike; the candidate runs a few more times first, as a runtime
   * compiled moments ago is still moving its hot code to the optimising tier. Timed apart, a
   * LiteRT compiled during wasm's timing lost to it in 2 of 4 fresh profiles.
   */
  private async timeAgainst(best: BackendName, candidate: BackendName): Promise<[number, number]> {
    const { engine } = this.deps;
    await engine.time(candidate, CANDIDATE_WARM_RUNS);
    const [ours, theirs]: [number[], number[]] = [[], []];
    for (let i = 0; i < PAIRED_RUNS; i++) {
      ours.push(await engine.time(best, 1));
      theirs.push(await engine.time(candidate, 1));
    }
    return [median(ours), median(theirs)];
  }

  private async measure(
    current: BackendName,
    found: readonly GpuProbe[],
    memory: ChoiceMemory,
    started: number,
  ): Promise<void> {
    const { engine } = this.deps;
    // LiteRT's 9 MB runtime downloads and compiles while the GPUs' probe and the photos go on.
    for (const candidate of engine.cpuCandidates()) if (candidate !== current) engine.preload(candidate);
    const timings: BackendChoice['timings'] = {};
    const skipped = skippedByProbe(found);
    const phases = [
      { candidates: engine.cpuCandidates(), quietMs: 0 },
      { candidates: engine.gpuCandidates(found), quietMs: TRIAL_QUIET_MS },
    ].map((phase) => ({ ...phase, candidates: phase.candidates.filter((b) => b !== current) }));
    let best = current;
    for (const [i, { candidates, quietMs }] of phases.entries()) {
      for (const candidate of candidates) {
        if (quietMs > 0) await engine.idle(quietMs);
        if (started !== this.generation) break;
        try {
          const firstMs = await engine.prepare(candidate);
          // The compiling first run already shows a candidate that cannot win.
          if (firstMs > TRIAL_FIRST_RUN_CAP_MS) skipped[candidate] = `first run took ${Math.round(firstMs)} ms`;
          else [timings[best], timings[candidate]] = await this.timeAgainst(best, candidate);
        } catch (error) {
          skipped[candidate] = `failed: ${(error as Error).message}`;
        }
      }
      if (started !== this.generation) {
        for (const candidate of candidates) if (candidate !== this.chosen?.backend) await engine.drop(candidate);
        return;
      }
      const winner = fastest(
        best,
        Object.fromEntries([best, ...candidates].flatMap((b) => (timings[b] === undefined ? [] : [[b, timings[b]]]))),
      );
      for (const candidate of candidates) if (candidate !== winner) await engine.drop(candidate);
      if (winner === best) continue;
      await engine.select(winner);
      best = winner;
      // Photos from now on run on the winner so far, while later phases still measure.
      if (phases.slice(i + 1).some((p) => p.candidates.length > 0))
        this.settle(started, { backend: best, reason: 'measuring', timings: { ...timings }, skipped: { ...skipped } });
    }
    await memory.remember(best);
    this.settle(started, { backend: best, reason: 'measured', timings, skipped });
  }
}
