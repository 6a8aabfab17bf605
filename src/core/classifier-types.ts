/** The id of the model the site is built with (public/model), as stored choices, `?model=` and the embed's `ready` name it. */
export const BUILTIN_MODEL = 'builtin';
/** What the import trial's runs are told to the watchdog as: a model that is not stored yet, whose failure fails only its import. */
export const TRIAL_MODEL = 'import-trial';
/** A stored model's source when it was trained in the Train view. */
export const TRAINED_SOURCE = 'trained in Glimpse';

/** Whose features training uses: the active model's own, the built-in's because the active one was trained on them, or the built-in's because the active one cannot give any. */
export type FeatureSource = 'own' | 'base' | 'builtin';

import type { InputColor } from './model-spec';
import type { BackendChoice, BackendName, BackendPreference, GpuProbe } from './backends';
import type { EvaluationReport } from './metrics';
import type { Prediction } from './predictions';
import type { EpochFigures, ReviewEntry, TrainOptions } from './train-options';

/** What the worker's classifier API takes and returns, shared with the page and the embed bridge. */

export interface ModelInfo {
  /**
   * `fit` and `crop`: how the model looks at an image (see ModelSpec). `id` is 'builtin' or a stored model's.
   * `features`: whose features training uses while it is active (FeatureSource).
   */
  model: {
    id: string;
    name: string;
    version: string;
    classes: number;
    inputSize: readonly [number, number];
    range: readonly [number, number];
    fit: 'crop' | 'squash';
    crop: number;
    normalize: Normalize | null;
    temperature: number;
    features: FeatureSource;
    color: InputColor;
  };
  backend: BackendName;
  choice: BackendChoice;
  /** A stored model that was active but could not be loaded (the built-in one runs instead). */
  problem: { id: string; error: string; message: string } | null;
}

export type LoadProgress =
  | { phase: 'download'; loaded: number; total: number }
  | { phase: 'warmup'; backend: BackendName }
  /** Sent when loading finishes and again whenever a background trial switches backend. */
  | { phase: 'ready'; info: ModelInfo };

export interface LoadOptions {
  backend?: BackendPreference;
  /** Run this model for this page only (a shipped model's id; the embed frame's ?model=), not the remembered choice. */
  model?: string;
  /** Make this model (built-in, shipped or stored) the active one, as choosing it does: the watchdog's way to change models past a hung run. */
  use?: string;
  /** The model the watchdog stopped: it is no longer the active one, and `problem` says why, until the user chooses it again. */
  failed?: { id: string; error: string; message: string };
}

/** A model the user imported, as the Models view lists it. */
export interface StoredModel {
  id: string;
  name: string;
  /** 'tflite': runs on LiteRT only (its converted copy answered differently from it). */
  format: 'graph-model' | 'layers-model' | 'onnx' | 'tflite';
  /** The file(s) it was imported from. */
  source: string;
  classes: number;
  bytes: number;
  addedAt: string;
  /** How its preprocessing was decided, in words. */
  preprocessing: string;
  /** It came without labels: its answers are numbered until a labels file is added. */
  numbered?: boolean;
  /** What its publisher says of it (a TFLite model's metadata). */
  about?: ModelAbout;
  /** A converted .tflite checked against LiteRT running the file at import (or why it could not be). */
  check?: ModelCheck;
}

/** The import's runtime check: how far the converted copy's probabilities lay from the file's own runtime, or why it was not run. */
export type ModelCheck =
  { runtime: string; probes: number; largest: number; agreed: boolean } | { runtime: string; skipped: string };

/** Where an import is: the files read and converted, the trial's runs, the check against the file's own runtime, storing, the backend choice. */
export type ImportStep = 'reading' | 'trial' | 'check' | 'storing' | 'warming';

/** A model's description, as its file states it; empty fields left out. */
export interface ModelAbout {
  /** The name inside the file, where it differs from the file's. */
  name?: string;
  description?: string;
  version?: string;
  author?: string;
  license?: string;
  /** Scores below it are no answer, as the publisher set it. */
  scoreThreshold?: number;
}

/** What the worker knows of its runtime, for the diagnostics panel: nothing about any image. */
export interface WorkerDiagnostics {
  tfjsVersion: string;
  probes: GpuProbe[];
  wasm: { simd: boolean; threads: boolean };
  memory: { tensors: number; bytes: number };
}

export interface ClassifyResult {
  predictions: Prediction[];
  backend: BackendName;
  /** Worker time for this image: pixels, preprocessing, inference and top-k. */
  ms: number;
  /** The worker's tfjs memory right after this image: a leak shows as growth. */
  memory: { tensors: number; bytes: number };
}

/** What the Train view hears while the worker trains. */
export type TrainEvent =
  | { phase: 'features'; done: number; total: number }
  /** An input image the worker found not to be one it can train on (named as errors are), left out of the run. */
  | { phase: 'refused'; index: number; error: { name: string; message: string } }
  | ({ phase: 'training' } & EpochFigures);

/** A photo to train on; `key` is its content key from an earlier run's summary, which spares reading it again. */
export interface TrainImageInput {
  data: Blob;
  label: string;
  key?: string;
}

export interface TrainSummary {
  method: TrainOptions['method'];
  labels: string[];
  split: { train: number; val: number };
  /** Feature vectors the run used (images and their augmented views): computed now, or already known. */
  features: { total: number; computed: number; memory: number; disk: number };
  /** Each input image's content key, in input order. */
  keys: string[];
  /** The validation images' answers (every image's leave-one-out answer for nearest neighbour). */
  review: ReviewEntry[];
  /** From the call to the end of features, and to the result. */
  timing: { featuresMs: number; totalMs: number };
  history: EpochFigures[];
  bestEpoch: number;
  /** Validation accuracy of the best epoch's weights. */
  valAccuracy: number;
  report: EvaluationReport;
  /** The name the trained model gets. */
  name: string;
}

/** What "Make a smaller model" asks of the worker: the active model teaches a student on the staged photos. */
export interface DistillRequest {
  /** The teacher's classes the student answers, by name or index (the rest become "other"); empty: all. */
  classes: string[];
  /** Softening of the teacher's answers; model/distillation.ts's default when left out. */
  temperature?: number;
}

/** What the Models view hears while a student learns: photos answered, then epochs. */
export type DistillEvent =
  | { phase: 'photos'; done: number; total: number }
  | { phase: 'refused'; index: number; error: { name: string; message: string } }
  | ({ phase: 'training' } & EpochFigures)
  | { phase: 'storing' };

export interface DistillSummary {
  /** The student as stored: listed, usable, evaluable and exportable like any model. */
  model: StoredModel;
  teacher: { id: string; name: string; bytes: number | null };
  classes: string[];
  photos: { train: number; validation: number; heldOut: number; refused: number };
  /** Share of the held-out photos on which the student's top answer is the teacher's. */
  agreement: number;
  /** Median worker time per photo, each model on its own engine, timed in turn on the same held-out photos. */
  ms: { teacher: number; student: number; teacherBackend: string; studentBackend: string };
  bestEpoch: number;
  totalMs: number;
}

/** Per-channel (R, G, B) normalisation after the range (PyTorch-style mean and std). */
export interface Normalize {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** How a stored model's images are prepared, as the Models view corrects it. */
export interface InputCorrection {
  range: [number, number];
  fit: 'crop' | 'squash';
  centralCrop: number;
  /** Per-channel mean and std, or null for none; left out: unchanged. */
  normalize?: Normalize | null;
  /** RGB or BGR channel order (a grey-scale model stays grey); left out: unchanged. */
  color?: 'rgb' | 'bgr';
}
