import type { ErrorName } from '../core/errors';
import type { BackendName, ChoiceReason } from '../core/backends';
import type { ImportStep } from '../core/classifier-types';

/**
 * Every user-facing string, in each language. Error names map to text here and
 * only here; `{name}` placeholders are filled by i18n.format().
 */
export interface Messages {
  tagline: string;
  privacy: string;
  choose: string;
  dropHint: string;
  statusLoading: string;
  statusDownloading: string;
  statusWarming: string;
  statusReady: string;
  statusError: string;
  retry: string;
  backend: string;
  automatic: string;
  language: string;
  minConfidence: string;
  notSure: string;
  explain: Record<'button' | 'working' | 'explainClass' | 'opacity' | 'legend' | 'less' | 'more' | 'caption', string>;
  results: string;
  classifying: string;
  took: string;
  dismiss: string;
  updateAvailable: string;
  reload: string;
  updating: string;
  offline: string;
  offlineUnavailable: string;
  storage: string;
  release: string;
  modelVersion: string;
  cached: string;
  persistent: string;
  offlineUse: string;
  offlineOk: string;
  clearCache: string;
  cacheCleared: string;
  progress: string;
  batchCount: string;
  eta: string;
  cancel: string;
  classifyView: string;
  evaluate: string;
  evaluateHint: string;
  evaluateTooManyClasses: string;
  calibration: Record<
    | 'title'
    | 'diagram'
    | 'accuracy'
    | 'confidence'
    | 'ece'
    | 'coverageCurve'
    | 'threshold'
    | 'coverage'
    | 'temperature'
    | 'calibrate'
    | 'fitted'
    | 'notKept'
    | 'reset'
    | 'confidenceAxis'
    | 'accuracyAxis'
    | 'coverageAxis'
    | 'answeredAccuracyAxis'
    | 'binLegend'
    | 'idealLegend'
    | 'curveLegend'
    | 'pointLegend'
    | 'asTable'
    | 'bin'
    | 'thresholdColumn'
    | 'coverageColumn',
    string
  >;
  chooseFolder: string;
  chooseLabelledFiles: string;
  skippedFiles: string;
  restZero: string;
  labelMore: string;
  replaced: string;
  keepReplaced: string;
  images: string;
  macroPrf: string;
  weightedPrf: string;
  msPerImage: string;
  perClass: string;
  confusion: string;
  confusedPairs: string;
  label: string;
  support: string;
  cameraView: string;
  cameraStart: string;
  cameraStop: string;
  cameraPause: string;
  cameraResume: string;
  cameraSnapshot: string;
  cameraDevice: string;
  cameraFront: string;
  cameraBack: string;
  cameraSmoothing: string;
  cameraFigures: string;
  cameraOff: string;
  cameraStarting: string;
  cameraPaused: string;
  cameraHidden: string;
  train: Record<
    | 'view'
    | 'hint'
    | 'base'
    | 'baseTrained'
    | 'baseBuiltin'
    | 'newClass'
    | 'addImages'
    | 'augment'
    | 'cropJitter'
    | 'keepFeatures'
    | 'forgetFeatures'
    | 'reused'
    | 'camera'
    | 'cameraStop'
    | 'capture'
    | 'paste'
    | 'pasteWhere'
    | 'headStorage'
    | 'chooseFolder'
    | 'chooseFiles'
    | 'images'
    | 'few'
    | 'remove'
    | 'removeClass'
    | 'unlabelled'
    | 'duplicates'
    | 'refused'
    | 'start'
    | 'cancel'
    | 'advanced'
    | 'epochs'
    | 'learningRate'
    | 'batchSize'
    | 'validation'
    | 'seed'
    | 'hidden'
    | 'features'
    | 'epoch'
    | 'done'
    | 'loss'
    | 'accuracy'
    | 'lossAxis'
    | 'accuracyAxis'
    | 'epochAxis'
    | 'trainingSeries'
    | 'validationSeries'
    | 'chartTable'
    | 'use'
    | 'download'
    | 'needTwo'
    | 'reading'
    | 'progress'
    | 'method'
    | 'methodAuto'
    | 'methodHead'
    | 'methodNearest'
    | 'doneNearest'
    | 'noneMeans'
    | 'timing'
    | 'photosOf'
    | 'allPhotos'
    | 'review'
    | 'reviewHint'
    | 'sideTraining'
    | 'sideValidation'
    | 'reviewDoubtful'
    | 'reviewCell'
    | 'reviewShowDoubtful'
    | 'reviewClass'
    | 'reviewAllClasses'
    | 'reviewItem'
    | 'reviewEmpty'
    | 'moveTo'
    | 'moveFile'
    | 'drop'
    | 'retrain'
    | 'exportCsv'
    | 'exportZip'
    | 'exporting',
    string
  >;
  models: { steps: Record<ImportStep, string> } & Record<
    | 'view'
    | 'hint'
    | 'shipped'
    | 'import'
    | 'importFolder'
    | 'importing'
    | 'builtin'
    | 'active'
    | 'use'
    | 'delete'
    | 'export'
    | 'classes'
    | 'preprocessing'
    | 'range'
    | 'fit'
    | 'fitCrop'
    | 'fitSquash'
    | 'crop'
    | 'save'
    | 'problem'
    | 'stopped'
    | 'added'
    | 'failed'
    | 'variant'
    | 'variantAuto'
    | 'variantQuantized'
    | 'variantFp16'
    | 'variantFull'
    | 'preset'
    | 'presetCustom'
    | 'normalize'
    | 'labelsFile'
    | 'labelsChoose'
    | 'numbered'
    | 'addLabels'
    | 'author'
    | 'license'
    | 'threshold'
    | 'color'
    | 'colorGrey'
    | 'checkAgreed'
    | 'checkRefused'
    | 'checkSkipped',
    string
  >;
  compare: Record<
    | 'title'
    | 'hint'
    | 'models'
    | 'photos'
    | 'start'
    | 'cancel'
    | 'progress'
    | 'model'
    | 'classes'
    | 'download'
    | 'top1'
    | 'agrees'
    | 'ms'
    | 'exportJson',
    string
  >;
  smaller: Record<
    | 'title'
    | 'hint'
    | 'teacher'
    | 'photos'
    | 'photosFolder'
    | 'chosen'
    | 'student'
    | 'classes'
    | 'classesHint'
    | 'start'
    | 'cancel'
    | 'progress'
    | 'training'
    | 'storing'
    | 'result'
    | 'agreement'
    | 'bytes'
    | 'ms'
    | 'use'
    | 'needTen',
    string
  >;
  diag: Record<
    | 'title'
    | 'privacy'
    | 'copy'
    | 'download'
    | 'copied'
    | 'model'
    | 'backend'
    | 'trials'
    | 'probes'
    | 'device'
    | 'cores'
    | 'isolated'
    | 'wasm'
    | 'classifications'
    | 'errors'
    | 'none'
    | 'workerMs'
    | 'longTasks'
    | 'memory'
    | 'yes'
    | 'no',
    string
  >;
  backendNames: Record<BackendName, string>;
  reasons: Record<ChoiceReason, string>;
  errors: Record<ErrorName | 'UnknownError', string>;
}

const en: Messages = {
  tagline: 'Private image classification in your browser',
  privacy: 'Your photos never leave this device: the model runs here.',
  choose: 'Choose images',
  dropHint: 'or drop or paste images anywhere on this page',
  statusLoading: 'Loading the model…',
  statusDownloading: 'Downloading the model: {pct}%',
  statusWarming: 'Warming up on {backend}…',
  statusReady: 'Ready on {backend}',
  statusError: 'The model could not be loaded.',
  retry: 'Try again',
  backend: 'Backend',
  automatic: 'Automatic',
  language: 'Language',
  minConfidence: 'Say “not sure” below',
  notSure: 'Not sure — the best guesses are below {pct}% confidence:',
  explain: {
    button: 'Explain',
    working: 'Hiding parts of the photo to see what the model needs… {done} / {total}',
    explainClass: 'Explain',
    opacity: 'Opacity',
    legend: 'How much hiding each part lowers the class’s probability',
    less: 'less',
    more: 'more important',
    caption:
      'Occlusion sensitivity: {runs} copies of the photo, each with a patch hidden; red is where hiding it lowered the answer most.',
  },
  results: 'Results',
  classifying: 'Classifying…',
  took: '{ms} ms on {backend}',
  dismiss: 'Dismiss',
  updateAvailable: 'Update available',
  reload: 'Reload',
  updating: 'Updating…',
  offline: 'Offline',
  offlineUnavailable:
    'Offline use is unavailable here (the browser would not store the app, perhaps for lack of space). Glimpse still works online.',
  storage: 'Storage and version',
  release: 'App',
  modelVersion: 'Model version',
  cached: 'Stored on this device',
  persistent: 'kept by the browser',
  offlineUse: 'Offline use',
  offlineOk: 'ready: Glimpse works without a network',
  clearCache: 'Remove the offline copy',
  cacheCleared: 'Removed. The next visit downloads Glimpse again.',
  progress: 'Progress',
  batchCount: '{done} of {total} images',
  eta: 'about {s} s left',
  cancel: 'Cancel',
  classifyView: 'Classify',
  evaluate: 'Evaluate',
  evaluateTooManyClasses:
    'This model has {classes} classes; the Evaluate view scores models of up to {max} (its confusion matrix, classes × classes, would not fit in memory).',
  calibration: {
    title: 'How far to trust its confidence',
    diagram: 'Reliability diagram: accuracy per confidence bin, against the diagonal of perfect calibration',
    accuracy: 'accuracy',
    confidence: 'confidence',
    ece: 'Expected calibration error (15 bins): {ece}',
    coverageCurve: 'Accuracy against coverage',
    threshold: 'Answer only at confidence ≥',
    coverage: 'Answering only at confidence ≥ {t} covers {coverage} of the photos at {accuracy} accuracy.',
    temperature: 'Temperature now: {t} (1 = as the model answers).',
    calibrate: 'Calibrate this model',
    fitted:
      'Temperature {t}, fitted on {fitOn} photos; on the other {heldOut}, the calibration error went from {before} to {after}. Kept with this model on this device.',
    notKept:
      'Temperature {t}, fitted on {fitOn} photos, did not help: on the other {heldOut}, the calibration error would go from {before} to {after}. The model was left as it was.',
    reset: 'Forget the calibration',
    confidenceAxis: 'Confidence of the answer (%)',
    accuracyAxis: 'Accuracy (%)',
    coverageAxis: 'Photos answered (%)',
    answeredAccuracyAxis: 'Accuracy on those (%)',
    binLegend: 'Accuracy of the photos in each confidence bin',
    idealLegend: 'Perfect calibration (accuracy = confidence)',
    curveLegend: 'Accuracy as the threshold rises',
    pointLegend: 'The threshold chosen below',
    asTable: 'The figures as a table',
    bin: 'Confidence',
    thresholdColumn: 'Threshold',
    coverageColumn: 'Answered',
  },
  evaluateHint:
    'Measure the model on your own labelled images: choose or drop a folder with one sub-folder per class (named after the class), or ImageNet samples named <wnid>_<name>. Nothing leaves this device.',
  chooseFolder: 'Choose a folder',
  chooseLabelledFiles: 'Choose labelled files',
  skippedFiles: '{n} {n|file|files} skipped',
  restZero: 'Every other class: 0%',
  labelMore: '{name} (show its other names)',
  replaced: 'This pick replaced {n} earlier {n|answer|answers}.',
  keepReplaced: 'Keep them too',
  images: 'Images',
  macroPrf: 'macro precision / recall / F1',
  weightedPrf: 'weighted precision / recall / F1',
  msPerImage: 'ms per image',
  perClass: 'Per class',
  confusion: 'Confusion matrix',
  confusedPairs: 'Most confused pairs',
  label: 'Class',
  support: 'Images',
  cameraView: 'Camera',
  cameraStart: 'Start camera',
  cameraStop: 'Stop camera',
  cameraPause: 'Pause',
  cameraResume: 'Resume',
  cameraSnapshot: 'Snapshot',
  cameraDevice: 'Camera',
  cameraFront: 'Front camera',
  cameraBack: 'Back camera',
  cameraSmoothing: 'Smooth over the last {n} frames',
  cameraFigures: '{fps} frames/s classified · {ms} ms per frame in the worker',
  cameraOff: 'The camera is off. When on, its frames are classified on this device and never sent anywhere.',
  cameraStarting: 'Starting the camera…',
  cameraPaused: 'Paused',
  cameraHidden: 'The camera stopped because the page was hidden. Start it again when you are back.',
  train: {
    base: 'Training uses the features of the active model, “{name}”.',
    baseTrained: 'Training uses the built-in model’s features, which “{name}” was trained on.',
    baseBuiltin:
      '“{name}” cannot give the features training needs (only TF.js graph models with a feature layer can), so training uses the built-in model’s features.',
    view: 'Train',
    hint: 'Teach Glimpse your own classes: choose a folder with one sub-folder of images per class (or files named class__anything.jpg). The built-in model extracts features and a new head is trained here, in this browser.',
    newClass: 'New class name',
    addImages: 'Add images',
    augment: 'Also train on mirror images',
    cropJitter: 'Also train on random crops',
    keepFeatures: 'Keep image features on this device (a later visit trains without recomputing them)',
    forgetFeatures: 'Forget kept features',
    reused: '{n} of {total} features reused ({disk} from this device)',
    camera: 'Add from camera',
    cameraStop: 'Stop camera',
    capture: 'Capture',
    paste: 'Tip: paste an image (Ctrl+V) to add it to the selected class, or to a new class once it has a name.',
    pasteWhere: 'Select a class, or name a new one, before pasting an image.',
    headStorage: 'Store the head as',
    chooseFolder: 'Choose a folder',
    chooseFiles: 'Choose labelled files',
    images: '{n} {n|image|images}',
    few: 'fewer than {n} images: add more for a reliable model',
    remove: 'Remove',
    removeClass: 'Remove class',
    unlabelled: '{n} {n|file|files} had no class (put them in a folder named after it)',
    duplicates:
      '{n} {n|photo was an exact copy|photos were exact copies} of one already added, and {n|was|were} left out: a copy would be trained on and validated against at once.',
    refused: '{n} refused',
    start: 'Train',
    cancel: 'Cancel',
    advanced: 'Advanced',
    epochs: 'Epochs',
    learningRate: 'Learning rate',
    batchSize: 'Batch size',
    validation: 'Validation share',
    seed: 'Seed',
    hidden: 'Hidden units (0: none)',
    features: 'Extracting features: {done} of {total} images',
    epoch: 'Epoch {epoch}: loss {loss}, validation accuracy {acc}',
    done: 'Validation accuracy {acc} (best epoch {epoch}; {train} images trained on, {val} held out)',
    loss: 'Loss',
    accuracy: 'Accuracy',
    lossAxis: 'Loss (cross-entropy)',
    accuracyAxis: 'Accuracy (%)',
    epochAxis: 'Epoch',
    trainingSeries: 'training',
    validationSeries: 'validation',
    chartTable: 'The figures per epoch as a table',
    use: 'Use this model',
    download: 'Download (.zip)',
    needTwo: 'Add images of at least two classes.',
    reading: 'Checking photos: {done} of {total}…',
    progress: '{done} of {total} photos · {rate} photos/s · about {left} left',
    method: 'Method',
    methodAuto: 'Automatic (nearest neighbour below {n} photos a class)',
    methodHead: 'Train a head',
    methodNearest: 'Nearest neighbour (a few photos a class, no training)',
    noneMeans:
      '“none of these” is the answer for a photo less like every class’s photos than your photos of one class are like each other: the model then does not force it into a class. It knows only your photos: something that looks like one of your classes can still be given that class.',
    doneNearest:
      'Nearest neighbour on {n} photos: leave-one-out accuracy {acc} (a photo far from every class is "none of these")',
    timing: 'Features: {computed} computed at {rate} photos/s; ready {seconds} s after Train',
    photosOf: 'Photos of {label}',
    allPhotos: 'All photos',
    review: 'Review',
    reviewHint:
      'Every photo, answered by a model that did not learn from it: validation photos by the new model, training photos by models trained without them. First the wrong answers, most confident first (likely mislabelled), then each class’s least sure ones. Move a photo to its right class or drop it, then retrain: the features are kept, so it takes seconds.',
    sideTraining: 'training photo',
    sideValidation: 'validation photo',
    reviewDoubtful: 'Wrong and least sure',
    reviewCell: 'Labelled {truth}, answered {predicted}',
    reviewShowDoubtful: 'Show wrong and least sure',
    reviewClass: 'Labelled as',
    reviewAllClasses: 'every class',
    reviewItem: 'labelled {truth} · model: {predicted} {conf}',
    reviewEmpty: 'No photos here.',
    moveFile: 'Move {file} to the class',
    moveTo: 'Move to',
    drop: 'Drop',
    retrain: 'Retrain',
    exportCsv: 'Export dataset (.csv)',
    exportZip: 'Export dataset (.zip)',
    exporting: 'Packing {done} of {total} photos…',
  },
  models: {
    view: 'Models',
    hint: 'Bring your own classifier: a Teachable Machine export (its .zip or files), a TF.js model (model.json, weights and labels), a .tflite with its labels, or an ONNX model from PyTorch or Hugging Face (its folder or .zip, or config.json, preprocessor_config.json and the .onnx chosen together; a bare .onnx with labels.txt works too). It is checked, kept on this device, works offline, and never leaves it.',
    import: 'Import model files or a .zip',
    importFolder: 'Import a folder',
    importing: 'Working on it…',
    steps: {
      reading: 'Reading and checking the files…',
      trial: 'Trying the model on six test images…',
      check: 'Comparing its converted copy with LiteRT running the file itself…',
      storing: 'Keeping it on this device…',
      warming: 'Starting it on the fastest backend…',
    },
    builtin: 'built in',
    shipped: 'shipped with this site',
    active: 'active',
    use: 'Use',
    delete: 'Delete',
    export: 'Export .zip',
    classes: '{n} {n|class|classes}',
    preprocessing: 'Preprocessing',
    range: 'Pixel 0…255 becomes',
    fit: 'Image',
    fitCrop: 'centre square',
    fitSquash: 'whole image, squashed',
    crop: 'share of the square kept',
    save: 'Save',
    problem: 'The stored model “{name}” could not be loaded, so the built-in model runs instead: {message}',
    stopped:
      'The model “{name}” was stopped, so the built-in model runs instead: {message}. It stays off until you choose it again.',
    added: 'added {date}',
    failed: 'Something went wrong while reading this model.',
    variant: 'ONNX file',
    variantAuto: 'quantized if there is one',
    variantQuantized: 'model_quantized.onnx',
    variantFp16: 'model_fp16.onnx',
    variantFull: 'model.onnx (full precision)',
    preset: 'Preset',
    presetCustom: 'as below',
    normalize: 'then per channel (R, G, B): minus mean, divided by std',
    labelsFile: 'Labels file',
    labelsChoose: 'choose one…',
    numbered:
      'This model came without labels: its answers are numbered ("class 3"). Add a labels file (a name a line, in the model\'s output order) to name them.',
    addLabels: 'Add labels',
    author: 'By',
    license: 'Licence',
    threshold: 'its publisher counts scores under {percent}% as no answer',
    color: 'Channel order',
    colorGrey: 'one grey channel (luma)',
    checkAgreed:
      'Checked against {runtime} running the file itself: its converted copy agrees within {points} points on {n} test images.',
    checkRefused:
      'Its converted copy answered differently from {runtime} running the file itself (up to {points} points on {n} test images), so Glimpse runs this model on {runtime} only.',
    checkSkipped: 'Not checked against {runtime}, which cannot run this file: {why}',
  },
  compare: {
    title: 'Compare models',
    hint: 'Your models side by side on the same labelled photos, in the order you tick them (the first is the reference: the photos’ folders are named after its classes): download, top-1, how often each agrees with the first, and milliseconds per photo here. Each model is made active for its turn; yours is active again afterwards.',
    models: 'Models',
    photos: '{n} {n|photo|photos} chosen',
    start: 'Compare',
    cancel: 'Cancel',
    progress: 'Model {model} of {models}: {done} of {total} photos',
    model: 'Model',
    classes: 'Classes',
    download: 'Download',
    top1: 'Top-1',
    agrees: 'Agrees with the first',
    ms: 'ms per photo',
    exportJson: 'Export JSON',
  },
  smaller: {
    title: 'Make a smaller model',
    hint: 'A small, fast model for your photos, taught by “{name}”: a small backbone learns to give the active model’s answers to your photos. No labels needed; nothing leaves this device. Every fifth photo is kept aside to measure how often the two agree.',
    teacher: 'Teacher',
    photos: 'Choose photos',
    photosFolder: 'Choose a folder',
    chosen: '{n} {n|photo|photos} chosen',
    student: 'Student',
    classes: 'Classes to keep',
    classesHint: 'all of the teacher’s; or names, comma separated (the rest become “other”)',
    start: 'Make it',
    cancel: 'Cancel',
    progress: '{done} of {total} photos answered by both · about {left} left',
    training: 'Teaching the student: epoch {epoch}',
    storing: 'Keeping it on this device…',
    result: '“{name}” is kept with your models: {classes} {classes|class|classes}, trained on {train} photos.',
    agreement: 'Agrees with the teacher on {percent}% of {n} held-out photos',
    bytes: 'Download: {student} instead of {teacher} ({ratio}×)',
    ms: 'Per photo here: {student} ms on {studentBackend} instead of {teacher} ms on {teacherBackend} ({ratio}×)',
    use: 'Use it',
    needTen: 'Choose at least 10 photos.',
  },
  diag: {
    title: 'Diagnostics',
    privacy:
      'Measured on this device since the page opened. Nothing is sent anywhere: copy or download the report to share it. It holds no image, file name or label.',
    copy: 'Copy report',
    download: 'Download report',
    copied: 'Copied',
    model: 'Model',
    backend: 'Backend',
    trials: 'Trials (warm ms)',
    probes: 'GPU probes',
    device: 'Device',
    cores: 'cores',
    isolated: 'cross-origin isolated',
    wasm: 'WebAssembly SIMD / threads',
    classifications: 'Classifications',
    errors: 'Errors',
    none: 'none',
    workerMs: 'Worker ms per image',
    longTasks: 'Main-thread tasks over 50 ms',
    memory: 'Worker tensors / bytes',
    yes: 'yes',
    no: 'no',
  },
  backendNames: {
    webgpu: 'WebGPU',
    webgl: 'WebGL',
    litert: 'LiteRT (WebAssembly, integer kernels)',
    wasm: 'WebAssembly',
    cpu: 'CPU (JavaScript)',
    'onnx-webgpu': 'ONNX Runtime (WebGPU)',
    'onnx-webnn': 'ONNX Runtime (WebNN)',
    'onnx-wasm': 'ONNX Runtime (WebAssembly)',
  },
  reasons: {
    forced: 'chosen in settings',
    remembered: 'fastest on this device last time',
    measured: 'measured fastest on this device',
    measuring: 'fast default while faster backends are measured',
    'no-gpu': 'no hardware GPU is available, and WebAssembly is fastest without one',
    fallback: 'the chosen backend could not start here',
  },
  errors: {
    EmptyFileError: 'This file is empty.',
    NotAnImageError: 'This file is not an image.',
    UnsupportedFormatError: 'This image format is not supported. Use JPEG, PNG, WebP, GIF, BMP or AVIF.',
    CorruptImageError: 'This image is damaged or incomplete and cannot be read.',
    ImageTooLargeError:
      'This image is too large to open safely (limit: {megabytes} MB, {megapixels} megapixels, {side} pixels a side).',
    ImageShapeError: 'This image is too long and thin to classify.',
    ModelLoadError: 'The model could not be downloaded. Check your connection and try again.',
    ModelFormatError: 'The model files are damaged or in a format Glimpse cannot run.',
    ModelIntegrityError: 'The downloaded model failed its integrity check, so Glimpse will not run it. Try again.',
    BackendUnavailableError: 'That backend is not available in this browser.',
    BusyError: 'Too many images are waiting. Try again in a moment.',
    BadRequestError: 'That request was not understood.',
    CancelledError: 'Cancelled.',
    CameraDeniedError:
      'Camera access was denied. Allow the camera for this site in your browser settings, then start again.',
    CameraBlockedError: 'The page embedding Glimpse does not allow the camera (it needs allow="camera" on its iframe).',
    NoCameraError: 'No camera was found on this device.',
    CameraBusyError: 'The camera is in use by another app or could not be started.',
    InsecureContextError: 'The camera works only on a secure (https) page.',
    CameraLostError: 'The camera was disconnected.',
    StorageFullError:
      'There is not enough storage on this device to keep the model. Delete a model or free some space, then try again.',
    ModelTimeoutError:
      'The model stopped answering (it ran far longer than it does on other images), so Glimpse stopped it and switched back to the built-in model. Choose the model again in Models to retry it.',
    ModelMemoryError:
      'The model used more memory than this device can spare, so Glimpse stopped it and switched back to the built-in model. Choose the model again in Models to retry it.',
    LabelsChoiceError: 'Several of the files could be the labels. Choose the one to use below.',
    UnknownError: 'Something went wrong while classifying this image.',
  },
};

const zh: Messages = {
  tagline: '在浏览器中进行私密的图像分类',
  privacy: '照片不会离开此设备：模型在本地运行。',
  choose: '选择图片',
  dropHint: '或将图片拖放、粘贴到本页任意位置',
  statusLoading: '正在加载模型…',
  statusDownloading: '正在下载模型：{pct}%',
  statusWarming: '正在 {backend} 上预热…',
  statusReady: '已就绪，运行于 {backend}',
  statusError: '无法加载模型。',
  retry: '重试',
  backend: '后端',
  automatic: '自动',
  language: '语言',
  minConfidence: '低于此置信度时提示“不确定”',
  notSure: '不确定——最好的猜测低于 {pct}% 置信度：',
  explain: {
    button: '解释',
    working: '正在遮挡照片的各个部分，看模型需要什么… {done} / {total}',
    explainClass: '解释',
    opacity: '不透明度',
    legend: '遮挡每个部分会使该类别的概率降低多少',
    less: '较不重要',
    more: '更重要',
    caption: '遮挡敏感度：照片的 {runs} 个副本，每个遮住一块；红色是遮住后答案下降最多的地方。',
  },
  results: '结果',
  classifying: '正在分类…',
  took: '{ms} 毫秒，{backend}',
  dismiss: '关闭',
  updateAvailable: '有可用更新',
  reload: '重新加载',
  updating: '正在更新…',
  offline: '离线',
  offlineUnavailable: '此处无法离线使用（浏览器未能保存应用，可能是空间不足）。Glimpse 仍可在线使用。',
  storage: '存储与版本',
  release: '应用',
  modelVersion: '模型版本',
  cached: '已保存在此设备',
  persistent: '浏览器将保留',
  offlineUse: '离线使用',
  offlineOk: '就绪：无网络也可使用 Glimpse',
  clearCache: '删除离线副本',
  cacheCleared: '已删除。下次访问将重新下载 Glimpse。',
  progress: '进度',
  batchCount: '{done} / {total} 张图片',
  eta: '约剩 {s} 秒',
  cancel: '取消',
  classifyView: '分类',
  evaluate: '评估',
  evaluateTooManyClasses:
    '此模型有 {classes} 个类别；评估视图最多评估 {max} 个类别的模型（类别 × 类别的混淆矩阵会超出内存）。',
  calibration: {
    title: '它的置信度有多可信',
    diagram: '可靠性图：每个置信度区间的准确率，对照完美校准的对角线',
    accuracy: '准确率',
    confidence: '置信度',
    ece: '期望校准误差（15 个区间）：{ece}',
    coverageCurve: '准确率与覆盖率',
    threshold: '仅在置信度 ≥ 时作答',
    coverage: '仅在置信度 ≥ {t} 时作答，可覆盖 {coverage} 的照片，准确率 {accuracy}。',
    temperature: '当前温度：{t}（1 = 模型原样输出）。',
    calibrate: '校准此模型',
    fitted:
      '温度 {t}，在 {fitOn} 张照片上拟合；在另外 {heldOut} 张上，校准误差从 {before} 变为 {after}。已在本设备上随此模型保存。',
    notKept:
      '在 {fitOn} 张照片上拟合的温度 {t} 没有帮助：在另外 {heldOut} 张上，校准误差会从 {before} 变为 {after}。模型保持原样。',
    reset: '取消校准',
    confidenceAxis: '回答的置信度（%）',
    accuracyAxis: '准确率（%）',
    coverageAxis: '作答的图片（%）',
    answeredAccuracyAxis: '其中的准确率（%）',
    binLegend: '每个置信度区间内图片的准确率',
    idealLegend: '完美校准（准确率 = 置信度）',
    curveLegend: '阈值升高时的准确率',
    pointLegend: '下方所选的阈值',
    asTable: '以表格查看数据',
    bin: '置信度',
    thresholdColumn: '阈值',
    coverageColumn: '作答比例',
  },
  evaluateHint:
    '用您自己的带标签图片评估模型：选择或拖入一个文件夹，每个类别一个以类别命名的子文件夹；或命名为 <wnid>_<名称> 的 ImageNet 样本。数据不会离开此设备。',
  chooseFolder: '选择文件夹',
  chooseLabelledFiles: '选择带标签的文件',
  skippedFiles: '跳过了 {n} 个文件',
  restZero: '其余所有类别：0%',
  labelMore: '{name}（显示其他名称）',
  replaced: '这次选择替换了之前的 {n} 个结果。',
  keepReplaced: '一并保留',
  images: '图片',
  macroPrf: '宏平均 精确率 / 召回率 / F1',
  weightedPrf: '加权 精确率 / 召回率 / F1',
  msPerImage: '每张图片毫秒数',
  perClass: '各类别',
  confusion: '混淆矩阵',
  confusedPairs: '最常混淆的类别',
  label: '类别',
  support: '图片数',
  cameraView: '摄像头',
  cameraStart: '打开摄像头',
  cameraStop: '关闭摄像头',
  cameraPause: '暂停',
  cameraResume: '继续',
  cameraSnapshot: '截图',
  cameraDevice: '摄像头',
  cameraFront: '前置摄像头',
  cameraBack: '后置摄像头',
  cameraSmoothing: '对最近 {n} 帧取平均',
  cameraFigures: '每秒分类 {fps} 帧 · 工作线程每帧 {ms} 毫秒',
  cameraOff: '摄像头已关闭。打开后，画面只在本设备上分类，不会发送到任何地方。',
  cameraStarting: '正在打开摄像头…',
  cameraPaused: '已暂停',
  cameraHidden: '页面被隐藏，摄像头已停止。回来后请重新打开。',
  train: {
    base: '训练使用当前模型“{name}”的特征。',
    baseTrained: '训练使用内置模型的特征，“{name}”正是在这些特征上训练的。',
    baseBuiltin: '“{name}”无法提供训练所需的特征（只有带特征层的 TF.js 图模型可以），因此训练改用内置模型的特征。',
    view: '训练',
    hint: '教 Glimpse 识别你自己的类别：选择一个文件夹，每个类别一个子文件夹（或命名为 类别__任意.jpg 的文件）。内置模型提取特征，新的分类头在本浏览器中训练。',
    newClass: '新类别名称',
    addImages: '添加图片',
    augment: '同时用镜像图片训练',
    cropJitter: '同时用随机裁剪训练',
    keepFeatures: '在本设备上保存图片特征（下次访问训练时无需重新计算）',
    forgetFeatures: '清除已保存的特征',
    reused: '复用了 {total} 个特征中的 {n} 个（{disk} 个来自本设备）',
    camera: '从摄像头添加',
    cameraStop: '关闭摄像头',
    capture: '拍摄',
    paste: '提示：粘贴图片（Ctrl+V）可将其加入所选类别，或加入已命名的新类别。',
    pasteWhere: '粘贴图片前，请先选择一个类别或为新类别命名。',
    headStorage: '分类头的存储格式',
    chooseFolder: '选择文件夹',
    chooseFiles: '选择带标签的文件',
    images: '{n} 张图片',
    few: '少于 {n} 张图片：请添加更多以获得可靠的模型',
    remove: '移除',
    removeClass: '移除类别',
    unlabelled: '{n} 个文件没有类别（请放入以类别命名的文件夹）',
    duplicates: '{n} 张照片与已添加的照片完全相同，已略去：同一张照片不能既用于训练又用于验证。',
    refused: '{n} 张被拒绝',
    start: '训练',
    cancel: '取消',
    advanced: '高级',
    epochs: '轮数',
    learningRate: '学习率',
    batchSize: '批大小',
    validation: '验证集比例',
    seed: '随机种子',
    hidden: '隐藏层单元（0：无）',
    features: '正在提取特征：{done} / {total} 张',
    epoch: '第 {epoch} 轮：损失 {loss}，验证准确率 {acc}',
    done: '验证准确率 {acc}（最佳第 {epoch} 轮；训练 {train} 张，验证 {val} 张）',
    loss: '损失',
    accuracy: '准确率',
    lossAxis: '损失（交叉熵）',
    accuracyAxis: '准确率（%）',
    epochAxis: '轮次',
    trainingSeries: '训练',
    validationSeries: '验证',
    chartTable: '以表格查看每轮数据',
    use: '使用此模型',
    download: '下载（.zip）',
    needTwo: '请添加至少两个类别的图片。',
    reading: '正在检查照片：{done} / {total}…',
    progress: '{done} / {total} 张 · 每秒 {rate} 张 · 约剩 {left}',
    method: '方法',
    methodAuto: '自动（每类少于 {n} 张时用最近邻）',
    methodHead: '训练分类头',
    methodNearest: '最近邻（每类几张照片，无需训练）',
    noneMeans:
      '当一张照片与每个类别的照片都不如同类照片彼此那样相像时，答案是“none of these”（以上都不是）：模型不会硬把它归入某个类别。它只认识您的照片：看起来像您某个类别的东西，仍可能被归入该类别。',
    doneNearest: '{n} 张照片上的最近邻：留一法准确率 {acc}（与所有类别都相距很远的照片为“none of these”）',
    timing: '特征：计算了 {computed} 个，每秒 {rate} 张；点击训练后 {seconds} 秒完成',
    photosOf: '{label} 的照片',
    allPhotos: '全部照片',
    review: '复查',
    reviewHint:
      '每张照片都由没有学过它的模型判断：验证照片由新模型判断，训练照片由不含它们训练出的模型判断。先列出判断错误的照片（最有把握的在前，可能标错了），然后是每个类别最没把握的照片。把照片移到正确的类别或删除，然后重新训练：特征会保留，只需几秒。',
    sideTraining: '训练照片',
    sideValidation: '验证照片',
    reviewDoubtful: '错误和最没把握的',
    reviewCell: '标为 {truth}，判断为 {predicted}',
    reviewShowDoubtful: '显示错误和最没把握的',
    reviewClass: '标注为',
    reviewAllClasses: '所有类别',
    reviewItem: '标为 {truth} · 模型：{predicted} {conf}',
    reviewEmpty: '这里没有照片。',
    moveFile: '把 {file} 移到类别',
    moveTo: '移到',
    drop: '删除',
    retrain: '重新训练',
    exportCsv: '导出数据集（.csv）',
    exportZip: '导出数据集（.zip）',
    exporting: '正在打包 {done} / {total} 张照片…',
  },
  models: {
    view: '模型',
    hint: '使用你自己的分类器：Teachable Machine 导出（.zip 或其文件）、TF.js 模型（model.json、权重和标签）、带标签的 .tflite，或来自 PyTorch / Hugging Face 的 ONNX 模型（文件夹或 .zip，或一起选择 config.json、preprocessor_config.json 和 .onnx；也可以是带 labels.txt 的单个 .onnx）。模型会经过检查，保存在本设备上，可离线使用，且不会离开本设备。',
    import: '导入模型文件或 .zip',
    importFolder: '导入文件夹',
    importing: '处理中…',
    steps: {
      reading: '正在读取并检查文件…',
      trial: '正在用六张测试图片试运行模型…',
      check: '正在将转换后的副本与直接运行该文件的 LiteRT 对照…',
      storing: '正在保存到本设备…',
      warming: '正在用最快的后端启动…',
    },
    builtin: '内置',
    shipped: '随本站提供',
    active: '使用中',
    use: '使用',
    delete: '删除',
    export: '导出 .zip',
    classes: '{n} 个类别',
    preprocessing: '预处理',
    range: '像素 0…255 映射为',
    fit: '图像',
    fitCrop: '中心正方形',
    fitSquash: '整幅图像（拉伸）',
    crop: '保留正方形的比例',
    save: '保存',
    problem: '已保存的模型“{name}”无法加载，因此改用内置模型：{message}',
    stopped: '模型“{name}”已被停止，因此改用内置模型：{message}。在您再次选择它之前，它不会再运行。',
    added: '添加于 {date}',
    failed: '读取此模型时出错。',
    variant: 'ONNX 文件',
    variantAuto: '优先使用量化版本',
    variantQuantized: 'model_quantized.onnx',
    variantFp16: 'model_fp16.onnx',
    variantFull: 'model.onnx（全精度）',
    preset: '预设',
    presetCustom: '按下方设置',
    normalize: '然后按通道（R、G、B）减去均值、除以标准差',
    labelsFile: '标签文件',
    labelsChoose: '请选择…',
    numbered:
      '此模型没有附带标签：它的回答只是编号（如“class 3”）。添加一个标签文件（每行一个名称，按模型输出的顺序）即可为其命名。',
    addLabels: '添加标签',
    author: '作者',
    license: '许可证',
    threshold: '发布者将低于 {percent}% 的分数视为无结果',
    color: '通道顺序',
    colorGrey: '单个灰度通道（亮度）',
    checkAgreed: '已与直接运行该文件的 {runtime} 对照：转换后的副本在 {n} 张测试图片上的差异不超过 {points} 个百分点。',
    checkRefused:
      '转换后的副本与直接运行该文件的 {runtime} 结果不一致（在 {n} 张测试图片上最多相差 {points} 个百分点），因此 Glimpse 只用 {runtime} 运行此模型。',
    checkSkipped: '未与 {runtime} 对照，它无法运行此文件：{why}',
  },
  compare: {
    title: '比较模型',
    hint: '按你勾选的顺序，在同一批带标签的照片上并排比较你的模型（第一个为参照：照片的文件夹以它的类别命名）：下载大小、top-1、与第一个模型一致的比例，以及本机每张照片的毫秒数。每个模型轮到时会被设为当前模型，结束后恢复你原来的模型。',
    models: '模型',
    photos: '已选择 {n} 张照片',
    start: '比较',
    cancel: '取消',
    progress: '第 {model}/{models} 个模型：{done}/{total} 张照片',
    model: '模型',
    classes: '类别',
    download: '下载大小',
    top1: 'Top-1',
    agrees: '与第一个一致',
    ms: '每张照片毫秒数',
    exportJson: '导出 JSON',
  },
  smaller: {
    title: '制作更小的模型',
    hint: '为你的照片制作一个又小又快的模型，由“{name}”来教：一个小型骨干网络学习当前模型对你的照片给出的答案。不需要标签，任何内容都不会离开本设备。每五张照片留出一张，用来衡量两者答案一致的比例。',
    teacher: '教师模型',
    photos: '选择照片',
    photosFolder: '选择文件夹',
    chosen: '已选择 {n} 张照片',
    student: '学生模型',
    classes: '保留的类别',
    classesHint: '教师模型的全部类别；或用逗号分隔的名称（其余归为“other”）',
    start: '开始制作',
    cancel: '取消',
    progress: '两个模型已回答 {done}/{total} 张照片 · 约剩 {left}',
    training: '正在教学生模型：第 {epoch} 轮',
    storing: '正在保存到本设备…',
    result: '“{name}”已保存到你的模型中：{classes} 个类别，用 {train} 张照片训练。',
    agreement: '在 {n} 张留出的照片上与教师模型一致的比例为 {percent}%',
    bytes: '下载大小：{student}，原为 {teacher}（{ratio}×）',
    ms: '本机每张照片：{student} ms（{studentBackend}），原为 {teacher} ms（{teacherBackend}）（{ratio}×）',
    use: '使用它',
    needTen: '请至少选择 10 张照片。',
  },
  diag: {
    title: '诊断',
    privacy:
      '自页面打开以来在本设备上测得。不会发送到任何地方：如需分享，请复制或下载报告。报告不含任何图片、文件名或标签。',
    copy: '复制报告',
    download: '下载报告',
    copied: '已复制',
    model: '模型',
    backend: '后端',
    trials: '试运行（热启动毫秒）',
    probes: 'GPU 探测',
    device: '设备',
    cores: '核',
    isolated: '跨源隔离',
    wasm: 'WebAssembly SIMD / 线程',
    classifications: '分类次数',
    errors: '错误',
    none: '无',
    workerMs: '工作线程每张图片毫秒',
    longTasks: '主线程超过 50 毫秒的任务',
    memory: '工作线程张量 / 字节',
    yes: '是',
    no: '否',
  },
  backendNames: {
    webgpu: 'WebGPU',
    webgl: 'WebGL',
    litert: 'LiteRT（WebAssembly，整数内核）',
    wasm: 'WebAssembly',
    cpu: 'CPU（JavaScript）',
    'onnx-webgpu': 'ONNX Runtime（WebGPU）',
    'onnx-webnn': 'ONNX Runtime（WebNN）',
    'onnx-wasm': 'ONNX Runtime（WebAssembly）',
  },
  reasons: {
    forced: '在设置中选择',
    remembered: '上次在此设备上最快',
    measured: '在此设备上实测最快',
    measuring: '正在测量更快的后端，先用快速的默认后端',
    'no-gpu': '没有可用的硬件 GPU，此时 WebAssembly 最快',
    fallback: '所选后端无法在此启动',
  },
  errors: {
    EmptyFileError: '此文件为空。',
    NotAnImageError: '此文件不是图片。',
    UnsupportedFormatError: '不支持此图片格式。请使用 JPEG、PNG、WebP、GIF、BMP 或 AVIF。',
    CorruptImageError: '此图片已损坏或不完整，无法读取。',
    ImageTooLargeError: '图片过大，无法安全打开（上限：{megabytes} MB，{megapixels} 百万像素，每边 {side} 像素）。',
    ImageShapeError: '此图片过于细长，无法分类。',
    ModelLoadError: '无法下载模型。请检查网络连接后重试。',
    ModelFormatError: '模型文件已损坏，或格式无法运行。',
    ModelIntegrityError: '下载的模型未通过完整性校验，Glimpse 不会运行它。请重试。',
    BackendUnavailableError: '此浏览器不支持该后端。',
    BusyError: '等待中的图片太多，请稍后再试。',
    BadRequestError: '无法理解该请求。',
    CancelledError: '已取消。',
    CameraDeniedError: '摄像头权限被拒绝。请在浏览器设置中允许本网站使用摄像头，然后重新打开。',
    CameraBlockedError: '嵌入 Glimpse 的页面不允许使用摄像头（其 iframe 需要 allow="camera"）。',
    NoCameraError: '此设备上没有找到摄像头。',
    CameraBusyError: '摄像头正被其他应用使用，或无法启动。',
    InsecureContextError: '摄像头只能在安全（https）页面上使用。',
    CameraLostError: '摄像头已断开。',
    StorageFullError: '此设备的存储空间不足，无法保存模型。请删除一个模型或释放空间后重试。',
    ModelTimeoutError:
      '模型停止响应（运行时间远超处理其他图片时），Glimpse 已将其停止并切换回内置模型。如需重试，请在“模型”中再次选择它。',
    ModelMemoryError:
      '模型占用的内存超出此设备可承受的范围，Glimpse 已将其停止并切换回内置模型。如需重试，请在“模型”中再次选择它。',
    LabelsChoiceError: '有多个文件都可能是标签文件。请在下方选择要使用的那个。',
    UnknownError: '分类此图片时出错。',
  },
};

export const MESSAGES = { en, zh } as const;
export type Locale = keyof typeof MESSAGES;
export const LOCALES: { id: Locale; name: string }[] = [
  { id: 'en', name: 'English' },
  { id: 'zh', name: '简体中文' },
];
