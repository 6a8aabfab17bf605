import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, planFor, readSource, writeModel } from '../../tools/quantize';
import { decodeImageFile } from '../../tools/node-io';
import { loadModelDir, nodeEngine } from '../../tools/node-model';
import { EXPECTED_TOP1, FIXTURES, MODEL_DIR } from '../helpers/model';

describe('npm run quantize on the shipped model', () => {
  it.each([
    ['float16', [], { float16: 106, uint8: 0, int32: 1 }],
    ['uint16', [], { uint16: 106, uint8: 0, int32: 1 }],
    ['uint8', [['float16', /depthwise/]] as const, { float16: 17 * 2, uint8: 106 - 17 * 2, int32: 1 }],
  ] as const)(
    'writes %s weights that tfjs loads and that classify as before',
    async (dtype, keep, counts) => {
      const source = await readSource(join(MODEL_DIR, 'model.json'));
      const built = build(
        source,
        planFor(
          source,
          dtype,
          keep.map(([d, p]) => [d, p]),
        ),
      );
      expect(built.counts).toMatchObject(counts);
      const out = mkdtempSync(join(tmpdir(), `glimpse-q-${dtype}-`));
      await writeModel(source, built, out);

      for (const name of readdirSync(out).filter((f) => f.endsWith('.bin')))
        expect(statSync(join(out, name)).size).toBeLessThanOrEqual(4_000_000);
      const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
      expect(json.format).toBe('graph-model');
      expect(
        json.weightsManifest[0].weights.filter(
          (w: { quantization?: { dtype: string } }) => w.quantization?.dtype === dtype,
        ).length,
      ).toBe(dtype === 'uint8' ? counts.uint8 : 106);

      // Loaded back through the app's verified loader and tf.loadGraphModel (inside the engine).
      const files = await loadModelDir(out);
      const engine = await nodeEngine(files);
      for (const [file, index] of Object.entries(EXPECTED_TOP1)) {
        const { predictions } = await engine.classify(await decodeImageFile(resolve(FIXTURES, file), files.spec), 1);
        expect(predictions[0]!.index, `${file} as ${dtype}`).toBe(index);
      }
      engine.dispose();
    },
    60_000,
  );
});
