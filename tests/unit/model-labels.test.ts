import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareImport } from '../../model/model-import';
import type { ImportFile } from '../../model/prepared-model';
import { labelsFor } from '../../model/label-files';
import { readTflite } from '../../src/core/tflite/reader';
import { readTfliteMetadata } from '../../src/core/tflite/metadata';
import { FIXTURES, MODEL_DIR } from '../helpers/model';
import { teachableMachineExport, TM_LABELS } from '../helpers/teachable-machine';
import { tfliteMetadata, tinyTflite, withPackedFiles } from '../helpers/tflite-files';
import { tinyOnnx } from '../helpers/onnx-files';

/** A model's labels and description wherever its publisher put them: TFLite Metadata, a labels file of any name, or none. */

const text = (name: string, value: string): ImportFile => ({ name, bytes: new TextEncoder().encode(value) });
const IMAGENET: string[] = JSON.parse(readFileSync(resolve(MODEL_DIR, 'labels.json'), 'utf8'));
const coral = (): ImportFile => ({
  name: 'mobilenet_v1_0.75_192_quant.tflite',
  bytes: new Uint8Array(readFileSync(resolve(FIXTURES, 'mobilenet_v1_0.75_192_quant.tflite'))),
});
const SPECIES = [
  'Apis mellifera (Western Honey Bee)',
  'Danaus plexippus (Monarch)',
  'Coccinella septempunctata (Seven-spot Ladybird)',
  'Anax junius (Common Green Darner)',
];
const CHINESE = ['西方蜜蜂', '帝王蝶', '七星瓢虫', '碧伟蜓'];
let tm: ImportFile[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  tm = await teachableMachineExport();
});

describe('TFLite Metadata', () => {
  it('reads a real Coral export: the label file packed in the .tflite, with its background class dropped', () => {
    const metadata = readTfliteMetadata(readTflite(coral().bytes).metadata!);
    expect(metadata).toMatchObject({
      name: 'ImageClassifier',
      labelFiles: [{ name: 'imagenet_labels.txt', type: 2, locale: '' }],
      normalization: { mean: [127.5], std: [127.5] },
      colorSpace: 'rgb',
    });
    const prepared = prepareImport([coral()]);
    // Coral's list spells class 107 "jellyfish"; the built-in model's labels say "jelly fish".
    expect(prepared.labels).toEqual(IMAGENET.map((l, i) => (i === 107 ? 'jellyfish' : l)));
    expect(prepared.numbered).toBeUndefined();
    expect(prepared.preprocessing).toMatch(/labels from its metadata \(imagenet_labels\.txt\)/);
    expect(prepared.about).toMatchObject({
      name: 'ImageClassifier',
      description: expect.stringMatching(/most prominent object/),
    });
  });

  it('shows the publisher, licence and version; takes the label file of the app’s language; normalises a float input as the metadata says', () => {
    const metadata = tfliteMetadata({
      name: 'Insect spotter',
      description: 'Four garden insects.',
      version: 'v2',
      author: 'Garden Lab',
      license: 'Apache-2.0',
      labelFiles: [{ name: 'labels_zh.txt', locale: 'zh' }, { name: 'labels_en.txt' }],
      mean: [0],
      std: [255],
    });
    const tflite = withPackedFiles(tinyTflite({ metadata }), {
      'labels_en.txt': SPECIES.join('\n'),
      'labels_zh.txt': CHINESE.join('\n'),
    });
    const english = prepareImport([{ name: 'insects.tflite', bytes: tflite }]);
    expect(english.labels).toEqual(SPECIES);
    expect(english.about).toEqual({
      name: 'Insect spotter',
      description: 'Four garden insects.',
      version: 'v2',
      author: 'Garden Lab',
      license: 'Apache-2.0',
    });
    expect(english.spec.range).toEqual([0, 1]);
    expect(english.preprocessing).toMatch(/from the TFLite metadata: \(pixel − 0\) \/ 255/);
    expect(JSON.parse(new TextDecoder().decode(english.files['metadata.json'])).about.author).toBe('Garden Lab');
    expect(prepareImport([{ name: 'insects.tflite', bytes: tflite }], { locale: 'zh' }).labels).toEqual(CHINESE);
  });

  it('takes a float input’s value range from its Stats where no normalisation is given', () => {
    const prepared = prepareImport([
      { name: 'ranged.tflite', bytes: tinyTflite({ metadata: tfliteMetadata({ valueRange: [-2, 2] }) }) },
    ]);
    expect(prepared.spec.range).toEqual([-2, 2]);
    expect(prepared.preprocessing).toMatch(/the input's value range \[-2,2\]/);
  });

  it('lets a label file chosen beside the model win over the metadata’s, whatever its name', () => {
    const tflite = withPackedFiles(
      tinyTflite({ metadata: tfliteMetadata({ labelFiles: [{ name: 'labels_en.txt' }] }) }),
      { 'labels_en.txt': SPECIES.join('\n') },
    );
    const mine = ['bee', 'butterfly', 'ladybird', 'dragonfly'];
    expect(
      prepareImport([{ name: 'insects.tflite', bytes: tflite }, text('my_insects.txt', mine.join('\n'))]).labels,
    ).toEqual(mine);
  });

  it('imports a model whose metadata cannot be read on its guesses, and says why', () => {
    const broken = tinyTflite({ metadata: new Uint8Array([8, 0, 0, 0, 77, 48, 48, 49, 255, 255, 255, 255]) });
    const prepared = prepareImport([{ name: 'odd.tflite', bytes: broken }]);
    expect(prepared.numbered).toBe(true);
    expect(prepared.preprocessing).toMatch(/its TFLite metadata could not be read/);
  });
});

describe('labels by any name', () => {
  it('takes the one text or JSON file whose entries match the outputs, as TFLite, ONNX-style and TF.js models come', () => {
    const tiny = { name: 'tiny.tflite', bytes: tinyTflite() };
    for (const [name, value] of [
      ['inat_insect_labels.txt', SPECIES.join('\n')],
      ['classes.txt', SPECIES.map((s, i) => `${i} ${s}`).join('\n')],
      ['synset.txt', SPECIES.map((s, i) => `n0${1440764 + i} ${s}`).join('\n')],
      ['imagenet_class_index.json', JSON.stringify(Object.fromEntries(SPECIES.map((s, i) => [i, [`n0${i}`, s]])))],
      ['labels_en.txt', ['background', ...SPECIES].join('\n')],
    ] as const) {
      expect(
        prepareImport([tiny, text(name, value), text('README.txt', 'a model\nof insects\nfrom the garden\nby us')])
          .labels,
        name,
      ).toEqual(SPECIES);
    }
    const keras = tm.filter((f) => f.name !== 'metadata.json').concat(text('classes.txt', TM_LABELS.join('\n')));
    expect(prepareImport(keras).labels).toEqual(TM_LABELS);
    const onnx = prepareImport([
      { name: 'colours.onnx', bytes: tinyOnnx() },
      text('synset.txt', TM_LABELS.map((l, i) => `n0${i}000000 ${l}`).join('\n')),
    ]);
    expect([onnx.labels, onnx.numbered]).toEqual([TM_LABELS, undefined]);
    expect(onnx.preprocessing).toMatch(/labels from synset\.txt/);
  });

  it('asks when several files could be the labels, and takes the one chosen', () => {
    const files = [
      { name: 'tiny.tflite', bytes: tinyTflite() },
      text('a_labels.txt', SPECIES.join('\n')),
      text('b_labels.txt', CHINESE.join('\n')),
    ];
    expect(() => prepareImport(files)).toThrow(
      expect.objectContaining({
        name: 'LabelsChoiceError',
        message: 'several files could be the labels: ["a_labels.txt","b_labels.txt"]',
      }),
    );
    expect(prepareImport(files, { labels: 'b_labels.txt' }).labels).toEqual(CHINESE);
    // labels.json still wins among several, as it always has.
    expect(prepareImport([...files, text('labels.json', JSON.stringify(SPECIES))]).labels).toEqual(SPECIES);
  });

  it('imports a model without labels with numbered classes, and says so', () => {
    const prepared = prepareImport([{ name: 'tiny.tflite', bytes: tinyTflite() }, text('notes.txt', 'two\nlines')]);
    expect(prepared).toMatchObject({ numbered: true, labels: ['class 0', 'class 1', 'class 2', 'class 3'] });
    expect(prepared.preprocessing).toMatch(/no labels came with it/);
    const keras = prepareImport(tm.filter((f) => f.name !== 'metadata.json'));
    expect(keras).toMatchObject({ numbered: true, labels: ['class 0', 'class 1', 'class 2'] });
  });

  it('checks labels added later against the stored model’s classes', () => {
    expect(labelsFor(text('x.txt', SPECIES.join('\n')), 4)).toEqual(SPECIES);
    expect(labelsFor(text('x.txt', ['background', ...SPECIES].join('\n')), 4)).toEqual(SPECIES);
    expect(() => labelsFor(text('x.txt', SPECIES.slice(1).join('\n')), 4)).toThrow(
      /x\.txt has 3 labels, but the model has 4 classes/,
    );
    expect(() => labelsFor(text('x.json', '{"a": 1}'), 4)).toThrow(/holds no labels/);
  });
});
