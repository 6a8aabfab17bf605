import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeModelManifest } from '../build/model-manifest';
import { shardWeights } from './shards';
import { convert } from '../src/core/tflite/convert';
import { readTflite } from '../src/core/tflite/reader';
import { TFLITE_FILE } from '../src/core/model-manifest';

const HELP = `npm run convert -- --tflite <file.tflite> --out <dir> [--labels <labels.txt|labels.json>]
                     [--drop-background] [--crop 0.875] [--range -1,1] [--name <model name>] [--keep-tflite]

Converts a TFLite image classifier to a tfjs graph model (model.json, shards under 4 MB,
labels.json, metadata.json, manifest.json), without Python.
Weights: per-tensor uint8 is copied byte for byte as tfjs uint8 (lossless); int8 (per-channel)
is dequantized and stored as float16; float32 stays float32. Activations run in float.

  --labels           one label per line, or a JSON array (default: class 0, class 1, …)
  --drop-background  remove class 0 (the "background" of 1001-way ImageNet models)
  --crop             central-crop fraction for metadata.json (default: squash the whole image)
  --range            input range for metadata.json; default from the input's quantization
  --keep-tflite      ship the .tflite too (as model.tflite, in the manifest): the app times LiteRT
                     on it against tfjs and switches where it is faster; fetched only then`;

export async function writeConverted(
  outDir: string,
  converted: ReturnType<typeof convert>,
  license?: string,
  tflite?: Uint8Array,
): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const { paths, shards } = shardWeights(converted.weights.map((w) => w.bytes));
  paths.forEach((path, i) => writeFileSync(join(outDir, path), shards[i]!));
  const weightsManifest = [
    {
      paths,
      weights: converted.weights.map(({ name, shape, dtype, quantization }) => ({
        name,
        shape,
        dtype,
        ...(quantization ? { quantization } : {}),
      })),
    },
  ];
  writeFileSync(join(outDir, 'model.json'), JSON.stringify({ ...converted.modelJson, weightsManifest }));
  writeFileSync(join(outDir, 'labels.json'), JSON.stringify(converted.labels));
  writeFileSync(join(outDir, 'metadata.json'), JSON.stringify(converted.metadata, null, 1));
  if (license) writeFileSync(join(outDir, 'LICENSE'), license);
  if (tflite) writeFileSync(join(outDir, TFLITE_FILE), tflite);
  await writeModelManifest(outDir);
}

function readLabels(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return path.endsWith('.json') ? (JSON.parse(text) as string[]) : text.split(/\r?\n/).filter((l) => l.trim());
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      tflite: { type: 'string' },
      out: { type: 'string' },
      labels: { type: 'string' },
      'drop-background': { type: 'boolean', default: false },
      crop: { type: 'string' },
      range: { type: 'string' },
      name: { type: 'string' },
      license: { type: 'string' },
      'keep-tflite': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (!values.tflite || !values.out) {
    console.error(`${HELP}\n\nerror: give --tflite and --out`);
    process.exit(2);
  }
  try {
    const source = new Uint8Array(readFileSync(values.tflite));
    const model = readTflite(source);
    const converted = convert(model, {
      name: values.name ?? basename(values.tflite, '.tflite'),
      source: basename(values.tflite),
      dropBackground: values['drop-background'],
      ...(values.labels ? { labels: readLabels(values.labels) } : {}),
      ...(values.crop ? { crop: Number(values.crop) } : {}),
      ...(values.range ? { range: values.range.split(',').map(Number) as [number, number] } : {}),
    });
    await writeConverted(
      values.out,
      converted,
      values.license ? readFileSync(values.license, 'utf8') : undefined,
      values['keep-tflite'] ? source : undefined,
    );
    const ops = [...new Set(model.operators.map((o) => o.op))].join(', ');
    console.log(
      `wrote ${values.out}: ${converted.weights.length} weights, ${converted.labels.length} classes, ops ${ops}`,
    );
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
