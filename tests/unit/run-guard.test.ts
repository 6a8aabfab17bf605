import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_FLOOR_MS } from '../../src/core/run-budget';
import { hostileOnnx, huggingFaceFiles, type HostileOnnxOptions } from '../helpers/onnx-files';

/**
 * Issue 33 in the Node tools: onnxruntime-node runs a model on the calling thread, so a model that
 * loops or fills memory held `npm run eval` for good (17.8 GB in 38 s). The tools' guard ends the
 * process with a clear line instead.
 */

const ROOT = resolve(import.meta.dirname, '../..');

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/eval.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, npm_lifecycle_event: 'eval', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => done({ code, signal, stderr, ms: performance.now() - started }));
  });
}

describe('the Node tools under a model that hangs or fills memory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-guard-'));
  const model = (attack: HostileOnnxOptions['attack']) => join(dir, attack);

  beforeAll(async () => {
    const { config, preprocessor } = huggingFaceFiles(['red', 'green', 'blue']);
    for (const attack of ['hang', 'memory'] as const) {
      mkdirSync(model(attack));
      writeFileSync(join(model(attack), 'model.onnx'), hostileOnnx({ trigger: 'red-band', attack }));
      writeFileSync(join(model(attack), 'config.json'), JSON.stringify(config));
      writeFileSync(join(model(attack), 'preprocessor_config.json'), JSON.stringify(preprocessor));
    }
    mkdirSync(join(dir, 'images', 'red'), { recursive: true });
    // The first photo runs as the model should; the second (a mean red of 64) wakes it.
    for (const [name, r] of [
      ['a.png', 200],
      ['b.png', 64],
    ] as const) {
      await sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g: 30, b: 30 } } })
        .png()
        .toFile(join(dir, 'images', 'red', name));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('npm run eval stops a run past its budget and says why', { timeout: 120_000 }, async () => {
    const result = await run(['--model', model('hang'), '--images', join(dir, 'images')]);
    expect(result.signal).toBe('SIGKILL');
    expect(result.stderr).toMatch(
      /npm run eval: a model run went on for over 10 s, far longer than its other runs \(ModelTimeoutError\)/,
    );
    expect(result.ms).toBeGreaterThan(RUN_FLOOR_MS);
    expect(result.ms).toBeLessThan(RUN_FLOOR_MS + 60_000);
  });

  it(
    'npm run eval stops a process past its memory bound (GLIMPSE_MAX_MEMORY_MB) and says why',
    { timeout: 120_000 },
    async () => {
      const result = await run(['--model', model('memory'), '--images', join(dir, 'images')], {
        GLIMPSE_MAX_MEMORY_MB: '1200',
      });
      expect(result.stderr).toMatch(/over the 1200 MB allowed/);
      expect(result.stderr).toMatch(/ModelMemoryError/);
      expect(result.code === 1 || result.signal === 'SIGKILL').toBe(true);
    },
  );
});
