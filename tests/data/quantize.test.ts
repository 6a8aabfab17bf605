import { readdirSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEval } from '../../tools/eval';
import { autoPlan, build, readSource, writeModel } from '../../tools/quantize';
import { readManifest } from '../../tools/dataset';
import { decodeImageFile } from '../../tools/node-io';
import { requireShared, SAMPLE_1000, SHARED } from './shared';

const FLOAT16_MODEL = resolve(SHARED, 'models/tf2-mobilenet-v2-1.0-224-float16/model.json');

/** Every 10th sample image calibrates; two other disjoint tenths check the result. */
function splits(): { calibration: string; heldOut: string } {
  const files = readdirSync(SAMPLE_1000)
    .filter((f) => f.endsWith('.JPEG'))
    .sort();
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-splits-'));
  const write = (name: string, keep: (i: number) => boolean) => {
    const path = join(dir, name);
    writeFileSync(path, files.flatMap((f, i) => (keep(i) ? [`${join(SAMPLE_1000, f)},${i}`] : [])).join('\n'));
    return path;
  };
  return {
    calibration: write('calibration.csv', (i) => i % 10 === 0),
    heldOut: write('held-out.csv', (i) => i % 10 === 3 || i % 10 === 7),
  };
}

describe('npm run quantize --auto on the float16 TF2 MobileNetV2', () => {
  it('finds a mixed uint8/float16 model at most three quarters the size that stays within the drop on a separate set', async () => {
    requireShared();
    const { calibration, heldOut } = splits();
    const source = await readSource(FLOAT16_MODEL);
    const images = await Promise.all(
      readManifest(calibration, source.files.labels).map(async (i) => ({
        pixels: await decodeImageFile(i.path, source.files.spec),
        truth: i.truth,
      })),
    );
    const { plan, before, after } = await autoPlan(source, images, 0.01);
    expect(before - after).toBeLessThanOrEqual(0.01);
    const built = build(source, plan);
    expect(built.counts.uint8).toBeGreaterThan(10);
    expect(built.bytes).toBeLessThan(0.75 * 7_011_760);
    const out = mkdtempSync(join(tmpdir(), 'glimpse-auto-'));
    await writeModel(source, built, out);

    const [quantized, original] = [
      await runEval({ model: join(out, 'model.json'), manifest: heldOut }),
      await runEval({ model: FLOAT16_MODEL, manifest: heldOut }),
    ];
    console.log(
      `--auto: ${built.bytes} bytes (source 7,011,760); held-out top-1 ${quantized.top1} vs ${original.top1}`,
    );
    // 200 held-out images: one image is half a point, so the 1-point budget gets one point of sampling slack.
    expect(original.top1 - quantized.top1).toBeLessThanOrEqual(0.02);
  }, 900_000);
});
