import type { Pixels } from '../src/core/model-input';
import { median } from '../src/core/stats';
import type { ModelFiles } from '../model/model-files';
import { nodeEngine } from './node-model';

const ROUNDS = 3;

/**
 * Median ms per image of each model in Node (tfjs-wasm, or onnxruntime-node for an ONNX model),
 * each on its own photos (decoded for its input), the models taking turns round by round so a
 * machine that slows down slows them all.
 */
export async function msPerImage(
  models: readonly { files: ModelFiles; images: readonly Pixels[] }[],
): Promise<number[]> {
  const engines = await Promise.all(models.map((m) => nodeEngine(m.files)));
  try {
    const times: number[][] = models.map(() => []);
    for (let round = 0; round < ROUNDS; round++)
      for (const [m, engine] of engines.entries())
        for (const pixels of models[m]!.images) times[m]!.push((await engine.classify(pixels, 1)).ms);
    return times.map(median);
  } finally {
    for (const engine of engines) engine.dispose();
  }
}
