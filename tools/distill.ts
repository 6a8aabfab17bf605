import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { isImageFileName } from '../src/core/image-files';
import { resolveLabel } from '../src/core/labels';
import { argmax, distil, DISTILL_TEMPERATURE, OTHER_CLASS, teacherAnswer } from '../model/distillation';
import { DEFAULT_STUDENT, isStudentName, STUDENTS } from '../src/core/students';
import type { ModelFiles } from '../model/model-files';
import { writeModelManifest } from '../build/model-manifest';
import { readImageFolder } from './dataset';
import { decodeImageFile } from './node-io';
import { loadModel, loadModelDir, nodeEngine, tfjsOnly } from './node-model';
import { msPerImage } from './timing';
import { modelBytes } from './model-size';

const STUDENTS_DIR = resolve(import.meta.dirname, '../public/students');
const STUDENT_NAMES = Object.keys(STUDENTS);

const HELP = `npm run distill -- --teacher <model> --images <dir> --out <dir> [--student ${STUDENT_NAMES.join('|')}|<model>]
                     [--classes A,B,…] [--test <labelled dir>] [--temperature ${DISTILL_TEMPERATURE}] [--limit N] [--json report.json]

A smaller, faster model for your task, taught by the model you have, without labels: the student (a
small backbone) gets a new head trained on the teacher's answers to your photos, softened by a
temperature so it learns how alike the teacher finds the classes, not only its top answer.

  --teacher      any model Glimpse runs: a Glimpse folder, a TF.js or Teachable Machine export, a
                 .tflite with labels, an ONNX model or Hugging Face folder, a .zip
  --images       your photos (subfolders too; their names are ignored). A fifth of them, every
                 fifth, are kept out of training to measure how often the student agrees
  --student      a backbone that comes with Glimpse (default mobilenet_v1_0.25_128: 128 px,
                 0.5 MB), or any model with a feature layer named in its metadata.json
  --classes      the teacher's classes the student answers (names or indices); every other class
                 becomes "${OTHER_CLASS}". Default: all of the teacher's classes
  --test         labelled photos (class folders named like the student's classes) to measure the
                 teacher's and the student's accuracy on
  --temperature  softening of the teacher's answers (default ${DISTILL_TEMPERATURE})
  --json         write the report as JSON too`;

/** Every image file under `dir`, sorted by path. */
function imagesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => isImageFileName(basename(path)) && statSync(join(dir, path)).isFile())
    .sort()
    .map((path) => join(dir, path));
}

export interface DistillOptions {
  teacher: string;
  images: string;
  out: string;
  student: string;
  classes?: string[];
  test?: string;
  temperature: number;
  limit?: number;
}

export interface DistillReport {
  teacher: string;
  student: string;
  out: string;
  classes: string[];
  temperature: number;
  photos: { train: number; validation: number; heldOut: number };
  /** Share of the held-out photos on which the student's top answer is the teacher's. */
  agreement: number;
  accuracy?: { images: number; teacher: number; student: number };
  bytes: { teacher: number; student: number };
  msPerImage: { teacher: number; student: number; runtime: string };
  epochs: number;
}

const pixelsOf = (files: ModelFiles) => (path: string) => decodeImageFile(path, files.spec);

export async function runDistill(
  options: DistillOptions,
  log: (line: string) => void = () => undefined,
): Promise<DistillReport> {
  const teacherFiles = await loadModel(options.teacher);
  const studentPath = isStudentName(options.student)
    ? join(STUDENTS_DIR, STUDENTS[options.student].file)
    : options.student;
  const student = tfjsOnly(await loadModel(studentPath), 'a student');
  if (!student.spec.features)
    throw new Error(`${options.student} names no feature layer in its metadata.json: it cannot be a student`);
  const keep = options.classes?.map((name) => resolveLabel(name, teacherFiles.labels)) ?? null;
  const paths = imagesUnder(options.images).slice(0, options.limit);
  if (paths.length < 10)
    throw new Error(`${options.images} holds ${paths.length} photos: distillation needs at least 10`);

  // The teacher's answers and the student's features, photo by photo.
  const [teacher, base] = await Promise.all([nodeEngine(teacherFiles), nodeEngine(student)]);
  const answers: Float32Array[] = [];
  const features: Float32Array[] = [];
  const bar = new SingleBar(
    { format: 'teacher and student [{bar}] {value}/{total}', stream: process.stderr },
    Presets.shades_classic,
  );
  bar.start(paths.length, 0);
  try {
    for (const path of paths) {
      answers.push(await teacher.probabilities(await pixelsOf(teacherFiles)(path)));
      features.push(await base.features(await pixelsOf(student)(path), student.spec.features.node));
      bar.increment();
    }
  } finally {
    bar.stop();
    teacher.dispose();
    base.dispose();
  }

  const name = `distilled from ${teacherFiles.spec.name}`;
  const distilled = await distil(
    student,
    features,
    answers,
    { teacherLabels: teacherFiles.labels, keep, temperature: options.temperature, name },
    (f) =>
      log(
        `epoch ${f.epoch}: loss ${f.loss.toFixed(4)}, validation ${f.valLoss.toFixed(4)}, agreement ${(100 * f.valAccuracy).toFixed(1)}%`,
      ),
  );
  const { labels, split, files } = distilled;
  const heldOut = split.heldOut;
  const truth = answers.map((p) => teacherAnswer(p, keep));
  mkdirSync(options.out, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(options.out, file), bytes);
  // A student that comes with Glimpse passes its licence on to the model made from it.
  if (isStudentName(options.student)) copyFileSync(join(STUDENTS_DIR, 'LICENSE'), join(options.out, 'LICENSE'));
  await writeModelManifest(options.out);

  // The written student, read back as the app reads it, against the teacher on the held-out photos.
  const written = await loadModelDir(options.out);
  const studentEngine = await nodeEngine(written);
  const studentAnswers: number[] = [];
  try {
    for (const i of heldOut)
      studentAnswers.push(argmax(await studentEngine.probabilities(await pixelsOf(written)(paths[i]!))));
  } finally {
    studentEngine.dispose();
  }
  const agreement = heldOut.filter((i, k) => studentAnswers[k] === truth[i]).length / heldOut.length;

  let accuracy: DistillReport['accuracy'];
  if (options.test) {
    const test = readImageFolder(options.test, labels);
    const [t, s] = [await nodeEngine(teacherFiles), await nodeEngine(written)];
    let [teacherRight, studentRight] = [0, 0];
    try {
      for (const image of test) {
        teacherRight += +(
          teacherAnswer(await t.probabilities(await pixelsOf(teacherFiles)(image.path)), keep) === image.truth
        );
        studentRight += +(argmax(await s.probabilities(await pixelsOf(written)(image.path))) === image.truth);
      }
    } finally {
      t.dispose();
      s.dispose();
    }
    accuracy = { images: test.length, teacher: teacherRight / test.length, student: studentRight / test.length };
  }
  const timed = heldOut.slice(0, 10).map((i) => paths[i]!);
  const [msTeacher, msStudent] = await msPerImage([
    { files: teacherFiles, images: await Promise.all(timed.map(pixelsOf(teacherFiles))) },
    { files: written, images: await Promise.all(timed.map(pixelsOf(written))) },
  ]);
  return {
    teacher: options.teacher,
    student: options.student,
    out: options.out,
    classes: labels,
    temperature: options.temperature,
    photos: { train: split.train.length, validation: split.val.length, heldOut: heldOut.length },
    agreement,
    ...(accuracy ? { accuracy } : {}),
    bytes: { teacher: modelBytes(options.teacher).raw, student: modelBytes(options.out).raw },
    msPerImage: { teacher: msTeacher!, student: msStudent!, runtime: 'Node: tfjs-wasm, onnxruntime-node for ONNX' },
    epochs: distilled.bestEpoch,
  };
}

export function printed(r: DistillReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const ratio = (a: number, b: number) => `${(b / a).toFixed(2)}×`;
  const lines = [
    `| | teacher | student | |`,
    '|---|---|---|---|',
    `| agreement with the teacher on ${r.photos.heldOut} held-out photos | | ${pct(r.agreement)} | |`,
  ];
  if (r.accuracy)
    lines.push(
      `| top-1 on ${r.accuracy.images} labelled photos | ${pct(r.accuracy.teacher)} | ${pct(r.accuracy.student)} | ${(100 * (r.accuracy.student - r.accuracy.teacher)).toFixed(1)} points |`,
    );
  lines.push(
    `| download bytes | ${r.bytes.teacher.toLocaleString('en')} | ${r.bytes.student.toLocaleString('en')} | ${ratio(r.bytes.teacher, r.bytes.student)} |`,
    `| ms per image (${r.msPerImage.runtime}, median) | ${r.msPerImage.teacher.toFixed(1)} | ${r.msPerImage.student.toFixed(1)} | ${ratio(r.msPerImage.teacher, r.msPerImage.student)} |`,
    '',
    `${r.classes.length} classes (${r.classes.slice(0, 6).join(', ')}${r.classes.length > 6 ? ', …' : ''}); ${r.photos.train} photos to train, ${r.photos.validation} to stop early (best epoch ${r.epochs}), temperature ${r.temperature}.`,
  );
  return lines.join('\n');
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      teacher: { type: 'string' },
      images: { type: 'string' },
      out: { type: 'string' },
      student: { type: 'string', default: DEFAULT_STUDENT },
      classes: { type: 'string' },
      test: { type: 'string' },
      temperature: { type: 'string', default: String(DISTILL_TEMPERATURE) },
      limit: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const fail = (why: string) => {
    console.error(`${HELP}\n\nerror: ${why}`);
    process.exit(2);
  };
  const temperature = Number(values.temperature);
  if (!values.teacher || !values.images || !values.out) fail('give --teacher, --images and --out');
  if (!(temperature >= 1 && temperature <= 20)) fail('--temperature is a number from 1 to 20');
  if (!isStudentName(values.student) && !existsSync(values.student))
    fail(`--student is one of ${STUDENT_NAMES.join(', ')} or a model's path`);
  try {
    const report = await runDistill(
      {
        teacher: values.teacher!,
        images: values.images!,
        out: values.out!,
        student: values.student,
        ...(values.classes ? { classes: values.classes.split(',').map((c) => c.trim()) } : {}),
        ...(values.test ? { test: values.test } : {}),
        temperature,
        ...(values.limit ? { limit: Number(values.limit) } : {}),
      },
      (line) => console.error(`  ${line}`),
    );
    console.log(printed(report));
    if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(1);
  }
}
