import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/csv';
import { labelNames } from '../../src/core/labels';
import { readImageFolder, readManifest, resolveLabel } from '../../tools/dataset';
import { runEval } from '../../tools/eval';
import { EXPECTED_TOP1, FIXTURES, MODEL_DIR } from '../helpers/model';

const labels = ['tench, Tinca tinca', 'goldfish, Carassius auratus', 'crane', 'crane', 'hotdog, hot dog, red hot'];

describe('label resolution', () => {
  it('takes an index, a full label or one of its names, case-insensitively', () => {
    expect(resolveLabel('1', labels)).toBe(1);
    expect(resolveLabel('Goldfish', labels)).toBe(1);
    expect(resolveLabel('hot dog', labels)).toBe(4);
    expect(resolveLabel('tench, tinca tinca', labels)).toBe(0);
  });

  it('says clearly when a label is ambiguous, unknown or out of range', () => {
    expect(() => resolveLabel('crane', labels)).toThrow(/ambiguous: 2 \(crane\), 3 \(crane\); use the class index/);
    expect(() => resolveLabel('zebra', labels)).toThrow(/not a class/);
    expect(() => resolveLabel('7', labels)).toThrow(/out of range/);
  });

  it("splits a label into its first name and the rest, for a phone's narrow column", () => {
    expect(labelNames("dragonfly, darning needle, devil's darning needle")).toEqual({
      first: 'dragonfly',
      rest: "darning needle, devil's darning needle",
    });
    expect(labelNames('蜻蜓，豆娘')).toEqual({ first: '蜻蜓', rest: '豆娘' });
    expect(labelNames('macaw')).toEqual({ first: 'macaw', rest: '' });
  });
});

describe('datasets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-dataset-'));

  it('reads a CSV manifest with relative paths and a header', () => {
    writeFileSync(join(dir, 'set.csv'), 'path,label\nimages/a.jpg,goldfish\n/abs/b.png,4\n');
    expect(readManifest(join(dir, 'set.csv'), labels)).toEqual([
      { path: join(dir, 'images/a.jpg'), truth: 1 },
      { path: '/abs/b.png', truth: 4 },
    ]);
  });

  it('reads RFC 4180 quoting: a quoted label with commas, a quoted path, doubled quotes', () => {
    writeFileSync(
      join(dir, 'quoted.csv'),
      'path,label\r\n"images/a, b.jpg","goldfish, Carassius auratus"\r\nc.jpg,"hotdog, hot dog, red hot"\r\nd.jpg,tench, Tinca tinca\r\n',
    );
    expect(readManifest(join(dir, 'quoted.csv'), labels)).toEqual([
      { path: join(dir, 'images/a, b.jpg'), truth: 1 },
      { path: join(dir, 'c.jpg'), truth: 4 },
      { path: join(dir, 'd.jpg'), truth: 0 },
    ]);
    expect(parseCsv('a,"say ""hi""",\n\n"two\nlines",x')).toEqual([
      ['a', 'say "hi"', ''],
      ['two\nlines', 'x'],
    ]);
    writeFileSync(join(dir, 'open.csv'), 'a.jpg,"goldfish\n');
    expect(() => readManifest(join(dir, 'open.csv'), labels)).toThrow(/open.csv: a quoted field is not closed/);
  });

  it('names an ImageNet sample by its wnid where its name part is shared by two classes', () => {
    const imagenet = JSON.parse(readFileSync(join(MODEL_DIR, 'labels.json'), 'utf8')) as string[];
    expect(() => resolveLabel('polecat', imagenet)).toThrow(/ambiguous/);
    const flat = join(dir, 'imagenet');
    mkdirSync(flat);
    for (const f of [
      'n02443114_polecat.JPEG',
      'n02445715_skunk.JPEG',
      'n01910747_jellyfish.JPEG',
      'n01440764_tench.JPEG',
    ])
      writeFileSync(join(flat, f), '');
    expect(readImageFolder(flat, imagenet).map((i) => [i.path.split('/').pop(), i.truth])).toEqual([
      ['n01440764_tench.JPEG', 0],
      ['n01910747_jellyfish.JPEG', 107],
      ['n02443114_polecat.JPEG', 358],
      ['n02445715_skunk.JPEG', 361],
    ]);
  });

  it('reads folder-per-class and flat <wnid>_<name> folders', () => {
    const classes = join(dir, 'classes');
    mkdirSync(join(classes, 'goldfish'), { recursive: true });
    mkdirSync(join(classes, '4'), { recursive: true });
    writeFileSync(join(classes, 'goldfish', 'x.jpg'), '');
    writeFileSync(join(classes, '4', 'y.png'), '');
    expect(readImageFolder(classes, labels).map((i) => i.truth)).toEqual([4, 1]);

    const flat = join(dir, 'flat');
    mkdirSync(flat);
    writeFileSync(join(flat, 'n01443537_goldfish.JPEG'), '');
    writeFileSync(join(flat, 'n07697537_hotdog.JPEG'), '');
    expect(readImageFolder(flat, labels).map((i) => i.truth)).toEqual([1, 4]);
  });
});

describe('npm run eval on the committed photos', () => {
  it('gives the expected top-1 for each, through the app preprocessing on wasm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glimpse-eval-'));
    for (const [file, index] of Object.entries(EXPECTED_TOP1)) {
      mkdirSync(join(dir, String(index)), { recursive: true });
      symlinkSync(join(FIXTURES, file), join(dir, String(index), file));
    }
    const report = await runEval({ model: join(MODEL_DIR, 'model.json'), images: dir });
    expect(report.n).toBe(5);
    expect(report.top1).toBe(1);
    expect(report.perClass.filter((c) => c.support > 0).every((c) => c.f1 === 1)).toBe(true);
    expect(Object.keys(report).sort()).toEqual([
      'calibration',
      'confusion',
      'images',
      'macro',
      'msPerImage',
      'n',
      'perClass',
      'top1',
      'top5',
      'weighted',
    ]);
    // One record per image, in input order, with class indices and the top-1 probability.
    expect(report.images).toHaveLength(5);
    for (const image of report.images) {
      expect(image.predicted).toBe(image.truth);
      expect(image.truth).toBe(EXPECTED_TOP1[image.path.split('/').pop()!]);
      expect(image.confidence).toBeGreaterThan(0);
      expect(image.confidence).toBeLessThanOrEqual(1);
    }
    expect(report.calibration.bins).toHaveLength(15);
    expect(report.calibration.bins.reduce((n, b) => n + b.count, 0)).toBe(5);
    expect(Object.keys(report.calibration.bins[0]!).sort()).toEqual([
      'accuracy',
      'confidence',
      'count',
      'lower',
      'upper',
    ]);
  });
});
