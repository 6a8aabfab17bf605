import type { ModelAbout, ModelCheck } from '../src/core/classifier-types';
import type { ModelSpec } from '../src/core/model-spec';
import type { ModelFormat } from './model-files';

/** What an import reads (a user's files) and what it hands back (one prepared model), for every format's reader. */

export interface ImportFile {
  name: string;
  bytes: Uint8Array;
}

export interface PreparedModel {
  name: string;
  format: ModelFormat;
  /** The file(s) the user gave, for the model list. */
  source: string;
  spec: ModelSpec;
  labels: string[];
  /** How the preprocessing was decided, in words. */
  preprocessing: string;
  /** An ONNX model's .onnx files when several were given: the one taken first, the others to switch to. */
  variants?: string[];
  /** No labels came with it: its classes are numbered (the user is told, and can add labels later). */
  numbered?: boolean;
  /** What its publisher says of it. */
  about?: ModelAbout;
  /** The runtime check at import (a converted .tflite against LiteRT). */
  check?: ModelCheck;
  /** Glimpse's files for the model store: model.json, shards, metadata.json, labels.json. */
  files: Record<string, Uint8Array>;
}
