/// <reference path="../src/core/build-constants.d.ts" />
import * as active from './active-model';
import * as library from './model-library';
import * as training from './training-run';
import * as stage from './photo-stage';
import * as distillation from './distill-run';

/**
 * The classifier worker's API, exposed with comlink: its three parts, each owning its state — the
 * active model (load, classify, explain, calibrate, backend), the user's models (import, correct,
 * relabel, delete) and training. Importing and training load their code (the TFLite converter,
 * zip, the trainer) when first used: the worker compiles less before a first visit's first answer.
 */
export const api = {
  load: active.load,
  classify: active.classify,
  explain: active.explain,
  cancelExplain: active.cancelExplain,
  info: active.info,
  calibrate: active.calibrate,
  setBackend: active.setBackend,
  labels: active.labels,
  diagnostics: active.diagnostics,
  models: library.models,
  importModel: library.importModel,
  useModel: active.useModel,
  correctModel: library.correctModel,
  relabelModel: library.relabelModel,
  deleteModel: library.deleteModel,
  exportModel: library.exportModel,
  modelBytes: library.modelBytes,
  stageTraining: stage.stagePhotos,
  train: training.train,
  cancelTraining: training.cancelTraining,
  forgetFeatures: training.forgetFeatures,
  useTrained: training.useTrained,
  exportTrained: training.exportTrained,
  distill: distillation.distill,
  cancelDistill: distillation.cancelDistill,
};
export type ClassifierApi = typeof api;
