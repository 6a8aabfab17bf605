/**
 * Named errors shared by the page, the worker and the Node tools.
 * comlink carries only name/message/stack across the worker boundary, so the
 * `name` is the code: callers switch on it, never on `instanceof` or message text.
 */

export const ERROR_NAMES = [
  'EmptyFileError',
  'NotAnImageError',
  'UnsupportedFormatError',
  'CorruptImageError',
  'ImageTooLargeError',
  'ImageShapeError',
  'ModelLoadError',
  'ModelFormatError',
  'ModelIntegrityError',
  'BackendUnavailableError',
  'BusyError',
  'BadRequestError',
  'CancelledError',
  'CameraDeniedError',
  'CameraBlockedError',
  'NoCameraError',
  'CameraBusyError',
  'InsecureContextError',
  'CameraLostError',
  'StorageFullError',
  'ModelTimeoutError',
  'ModelMemoryError',
  'LabelsChoiceError',
] as const;

export type ErrorName = (typeof ERROR_NAMES)[number];

export class GlimpseError extends Error {
  constructor(name: ErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

const make = (name: ErrorName) =>
  class extends GlimpseError {
    constructor(message: string) {
      super(name, message);
    }
  };

export const EmptyFileError = make('EmptyFileError');
export const NotAnImageError = make('NotAnImageError');
export const UnsupportedFormatError = make('UnsupportedFormatError');
export const CorruptImageError = make('CorruptImageError');
export const ImageTooLargeError = make('ImageTooLargeError');
export const ImageShapeError = make('ImageShapeError');
export const ModelLoadError = make('ModelLoadError');
export const ModelFormatError = make('ModelFormatError');
export const ModelIntegrityError = make('ModelIntegrityError');
export const BackendUnavailableError = make('BackendUnavailableError');
export const BusyError = make('BusyError');
export const BadRequestError = make('BadRequestError');
export const CancelledError = make('CancelledError');
export const CameraDeniedError = make('CameraDeniedError');
export const CameraBlockedError = make('CameraBlockedError');
export const NoCameraError = make('NoCameraError');
export const CameraBusyError = make('CameraBusyError');
export const InsecureContextError = make('InsecureContextError');
export const CameraLostError = make('CameraLostError');
export const StorageFullError = make('StorageFullError');
/** A model run took longer than its budget (src/core/run-budget.ts): the worker running it was ended. */
export const ModelTimeoutError = make('ModelTimeoutError');
/** A model run left its worker's memory over the bound: the worker was ended. */
export const ModelMemoryError = make('ModelMemoryError');
/** Several of the files given with a model could be its labels: the user picks one (the message ends with their names as a JSON array). */
export const LabelsChoiceError = make('LabelsChoiceError');

export function isErrorName(name: unknown): name is ErrorName {
  return typeof name === 'string' && (ERROR_NAMES as readonly string[]).includes(name);
}

/** The known name of any thrown value; anything unknown is reported as a model/runtime failure. */
export function errorNameOf(error: unknown): ErrorName | 'UnknownError' {
  const name = error instanceof Error ? error.name : undefined;
  return isErrorName(name) ? name : 'UnknownError';
}

/** Codes are the stable, documented vocabulary for embedders (kebab-case). */
export type ErrorCode =
  | 'bad-image'
  | 'too-large'
  | 'unsupported'
  | 'model-unavailable'
  | 'busy'
  | 'bad-request'
  | 'cancelled'
  | 'camera-unavailable'
  | 'internal';

const CODES: Record<ErrorName | 'UnknownError', ErrorCode> = {
  EmptyFileError: 'bad-image',
  NotAnImageError: 'bad-image',
  CorruptImageError: 'bad-image',
  ImageShapeError: 'bad-image',
  UnsupportedFormatError: 'unsupported',
  ImageTooLargeError: 'too-large',
  ModelLoadError: 'model-unavailable',
  ModelFormatError: 'model-unavailable',
  ModelIntegrityError: 'model-unavailable',
  BackendUnavailableError: 'model-unavailable',
  BusyError: 'busy',
  BadRequestError: 'bad-request',
  CancelledError: 'cancelled',
  CameraDeniedError: 'camera-unavailable',
  CameraBlockedError: 'camera-unavailable',
  NoCameraError: 'camera-unavailable',
  CameraBusyError: 'camera-unavailable',
  InsecureContextError: 'camera-unavailable',
  CameraLostError: 'camera-unavailable',
  StorageFullError: 'internal',
  ModelTimeoutError: 'model-unavailable',
  ModelMemoryError: 'model-unavailable',
  LabelsChoiceError: 'model-unavailable',
  UnknownError: 'internal',
};

export function errorCodeOf(error: unknown): ErrorCode {
  return CODES[errorNameOf(error)];
}
