import { TRIAL_MODEL, type DistillEvent, type DistillRequest, type DistillSummary } from '../src/core/classifier-types';
import { BadRequestError, CancelledError, errorNameOf, ModelFormatError, ModelLoadError } from '../src/core/errors';
import { parseModelSpec } from '../src/core/model-spec';
import type { Pixels } from '../src/core/model-input';
import { median } from '../src/core/stats';
import { Engine } from '../model/engine';
import type { PreparedModel } from '../model/prepared-model';
import { activeId, builtinUrl, engine, openModel, tfjs, watchFor } from './active-model';
import { importedFiles, modelBytes } from './model-library';
import { saveModel } from './model-store';
import { checkedBytes, decodePhoto, stagedPhotos } from './photo-stage';
import { bitmapToPixels } from './pixels';

/**
 * "Make a smaller model": the active model teaches a small student (a backbone the page fetched
 * and the import worker converted) on the staged photos, without labels (model/distillation.ts).
 * The student is stored like any model: listed, usable, evaluable, deployable. State: the cancel flag.
 */

let stop = false;

export function cancelDistill(): void {
  stop = true;
}

/** Photos of each held-out kind kept to time the teacher and the stored student on. */
const TIMED_PHOTOS = 5;

async function ready(student: Engine): Promise<void> {
  const backend = student.featuresBackend(engine?.backend ?? 'wasm');
  await student.prepare(backend);
  await student.select(backend);
}

/**
 * Teaches `student` (its backbone, as the import worker prepared it) the active model's answers
 * to the staged photos, for the classes `request` keeps; stores the result and reports how often
 * it agrees with the teacher on held-out photos and how fast each answers here.
 */
export async function distill(
  student: PreparedModel,
  request: DistillRequest,
  onProgress: (event: DistillEvent) => void,
): Promise<DistillSummary> {
  stop = false;
  const started = performance.now();
  // Loaded when first used, as the recipe is: the class names' module brings ImageNet's wnids (13 KB).
  const [{ distil, DISTILL_TEMPERATURE }, { resolveLabel }] = await Promise.all([
    import('../model/distillation'),
    import('../src/core/labels'),
  ]);
  const teacher = engine;
  if (!teacher?.backend) throw new ModelLoadError('the model is not loaded');
  const teacherId = activeId;
  const { labels: teacherLabels, spec: teacherSpec } = teacher.files;
  let keep: number[] | null = null;
  if (request.classes.length > 0) {
    try {
      keep = request.classes.map((name) => resolveLabel(name, teacherLabels));
    } catch (error) {
      throw new BadRequestError((error as Error).message);
    }
    if (new Set(keep).size !== keep.length) throw new BadRequestError('a class is named twice');
    if (keep.length === teacherLabels.length) keep = null;
  }
  const temperature = request.temperature ?? DISTILL_TEMPERATURE;
  if (!(temperature >= 1 && temperature <= 20)) throw new BadRequestError('the temperature is a number from 1 to 20');
  const photos = stagedPhotos();
  if (photos.length < 10) throw new BadRequestError('making a smaller model needs at least 10 photos');

  const studentFiles = await importedFiles(student);
  const node = studentFiles.spec.features?.node;
  if (studentFiles.format !== 'graph-model' || !node)
    throw new ModelFormatError(`${studentFiles.spec.name} has no feature layer: it cannot be a student`);
  const base = new Engine(studentFiles, [tfjs], watchFor(TRIAL_MODEL));
  const answers: Float32Array[] = [];
  const features: Float32Array[] = [];
  /** Each held-out photo's pixels for both models, the first few, to time them on. */
  const timed: { teacher: Pixels; student: Pixels }[] = [];
  let refused = 0;
  try {
    await ready(base);
    for (const [index, photo] of photos.entries()) {
      if (stop) throw new CancelledError('making a smaller model was cancelled');
      if (engine !== teacher) throw new CancelledError('the model changed while it was teaching');
      let bitmap: ImageBitmap;
      try {
        await checkedBytes(photo.data);
        bitmap = await decodePhoto(photo.data);
      } catch (error) {
        refused++;
        onProgress({ phase: 'refused', index, error: { name: errorNameOf(error), message: (error as Error).message } });
        continue;
      }
      try {
        const pixels = {
          teacher: bitmapToPixels(bitmap, teacherSpec),
          student: bitmapToPixels(bitmap, studentFiles.spec),
        };
        answers.push(await teacher.probabilities(pixels.teacher));
        features.push(await base.features(pixels.student, node));
        if (answers.length % 5 === 0 && timed.length < TIMED_PHOTOS) timed.push(pixels);
      } finally {
        bitmap.close();
      }
      onProgress({ phase: 'photos', done: index + 1, total: photos.length });
    }
  } finally {
    base.dispose();
  }
  if (answers.length < 10)
    throw new BadRequestError(`only ${answers.length} of the photos could be read: at least 10 are needed`);

  const name = `${teacherSpec.name} → ${studentFiles.spec.name}`;
  const distilled = await distil(
    studentFiles,
    features,
    answers,
    { teacherLabels, keep, temperature, name },
    (figures) => onProgress({ phase: 'training', ...figures }),
    () => !stop,
  );
  if (stop) throw new CancelledError('making a smaller model was cancelled');
  onProgress({ phase: 'storing' });
  const metadata = JSON.parse(new TextDecoder().decode(distilled.files['metadata.json']));
  // The backbone's licence goes with every model made from it.
  const licence = await fetch(new URL('../students/LICENSE', new URL(builtinUrl, self.location.href)))
    .then((r) => (r.ok ? r.arrayBuffer() : null))
    .catch(() => null);
  const model = await saveModel(
    {
      name: name.slice(0, 80),
      format: 'graph-model',
      source: `distilled from ${teacherSpec.name}`,
      spec: parseModelSpec(metadata),
      labels: distilled.labels,
      preprocessing: `as ${studentFiles.spec.name}`,
      files: { ...distilled.files, ...(licence ? { LICENSE: new Uint8Array(licence) } : {}) },
    },
    `distilled from ${teacherSpec.name}`,
  );

  // The student as stored, opened as the app opens it, timed in turn with the teacher on the same photos.
  const written = new Engine(await openModel(model.id), [tfjs], watchFor(model.id));
  const ms = { teacher: [] as number[], student: [] as number[] };
  let studentBackend = 'wasm';
  try {
    await ready(written);
    studentBackend = written.backend ?? studentBackend;
    for (const pixels of timed) {
      let at = performance.now();
      await teacher.probabilities(pixels.teacher);
      ms.teacher.push(performance.now() - at);
      at = performance.now();
      await written.probabilities(pixels.student);
      ms.student.push(performance.now() - at);
    }
  } finally {
    written.dispose();
  }
  return {
    model,
    teacher: { id: teacherId, name: teacherSpec.name, bytes: await modelBytes(teacherId) },
    classes: distilled.labels,
    photos: {
      train: distilled.split.train.length,
      validation: distilled.split.val.length,
      heldOut: distilled.split.heldOut.length,
      refused,
    },
    agreement: distilled.agreement,
    ms: {
      teacher: median(ms.teacher),
      student: median(ms.student),
      teacherBackend: teacher.backend ?? 'wasm',
      studentBackend,
    },
    bestEpoch: distilled.bestEpoch,
    totalMs: performance.now() - started,
  };
}
