import { flatbufferRoot, type Table } from './reader';

/**
 * TFLite Metadata (the `M001` flatbuffer of tensorflow/tflite-support's metadata_schema.fbs),
 * read for an image classifier: who made the model and under which licence, how its input is
 * normalised, which associated file holds its output labels (per locale), and its score
 * thresholding and calibration, and its value range. Field numbers below are the schema's; a union takes two numbers
 * (its type, then its value). The associated files themselves are a .zip appended to the
 * .tflite: the importer reads them.
 */

export interface AssociatedFile {
  name: string;
  /** AssociatedFileType: 2 TENSOR_AXIS_LABELS, 3 TENSOR_VALUE_LABELS, 4 TENSOR_AXIS_SCORE_CALIBRATION. */
  type: number;
  locale: string;
}

export interface TfliteMetadata {
  name: string;
  description: string;
  version: string;
  author: string;
  license: string;
  /** The output's label files (TENSOR_AXIS_LABELS), the default one (no locale) first. */
  labelFiles: AssociatedFile[];
  /** Input normalisation, (pixel − mean) / std, one value or one per channel. */
  normalization?: { mean: number[]; std: number[] };
  /** The input's value range as its Stats give it (min, max), where they give one of each. */
  valueRange?: [number, number];
  /** The input's colour space as the metadata states it. */
  colorSpace?: 'rgb' | 'grayscale';
  /** Scores below it are no answer (ScoreThresholdingOptions). */
  scoreThreshold?: number;
  /** A per-class sigmoid calibration (ScoreCalibrationOptions) and the file with its parameters. */
  calibration?: { transformation: 'identity' | 'log' | 'inverse-logistic'; defaultScore: number; file: string };
}

export const AXIS_LABELS = 2;
const SCORE_CALIBRATION_FILE = 4;
const UNION = { image: 2, normalization: 1, calibration: 2, thresholding: 3 } as const;
const TRANSFORMATIONS = ['identity', 'log', 'inverse-logistic'] as const;

function associatedFiles(table: Table | null | undefined, field: number): AssociatedFile[] {
  return (table?.tables(field, 'associated_files') ?? []).map((f) => ({
    name: f.string(0),
    type: f.byte(2),
    locale: f.string(3),
  }));
}

/** A process unit's options of one union type, from a list of them. */
function processUnit(units: Table[], type: number): Table | null {
  const unit = units.find((u) => u.byte(0) === type);
  return unit ? unit.table(1) : null;
}

/** Reads the metadata flatbuffer; damaged metadata is a ModelFormatError naming the field. */
export function readTfliteMetadata(bytes: Uint8Array): TfliteMetadata {
  const root = flatbufferRoot(bytes, 'M001', 'TFLite metadata');
  const graph = root.tables(3, 'subgraph_metadata')[0];
  const input = graph?.tables(2, 'input_tensor_metadata')[0];
  const output = graph?.tables(3, 'output_tensor_metadata')[0];

  const outputFiles = [...associatedFiles(output, 6), ...associatedFiles(graph, 4)];
  const labelFiles = outputFiles
    .filter((f) => f.type === AXIS_LABELS && f.name)
    .sort((a, b) => Number(a.locale !== '') - Number(b.locale !== ''));

  const inputUnits = [...(input?.tables(4, 'process_units') ?? []), ...(graph?.tables(5, 'input_process_units') ?? [])];
  const normalizationOptions = processUnit(inputUnits, UNION.normalization);
  const mean = normalizationOptions?.floats(0, 'mean') ?? [];
  const std = normalizationOptions?.floats(1, 'std') ?? [];

  const stats = input?.table(5);
  const [max, min] = [stats?.floats(0, 'max') ?? [], stats?.floats(1, 'min') ?? []];
  const content = input?.table(3);
  const image = content && content.byte(0) === UNION.image ? content.table(1) : null;
  const colorSpace = image ? ({ 1: 'rgb', 2: 'grayscale' } as const)[image.byte(0) as 1 | 2] : undefined;

  const outputUnits = [
    ...(output?.tables(4, 'process_units') ?? []),
    ...(graph?.tables(6, 'output_process_units') ?? []),
  ];
  const thresholding = processUnit(outputUnits, UNION.thresholding);
  const calibrationOptions = processUnit(outputUnits, UNION.calibration);
  const calibrationFile = outputFiles.find((f) => f.type === SCORE_CALIBRATION_FILE);

  return {
    name: root.string(0),
    description: root.string(1),
    version: root.string(2),
    author: root.string(4),
    license: root.string(5),
    labelFiles,
    ...(mean.length > 0 && std.length > 0 ? { normalization: { mean, std } } : {}),
    ...(max.length === 1 && min.length === 1 && min[0]! < max[0]!
      ? { valueRange: [min[0]!, max[0]!] as [number, number] }
      : {}),
    ...(colorSpace ? { colorSpace } : {}),
    ...(thresholding ? { scoreThreshold: thresholding.float(0) } : {}),
    ...(calibrationOptions && calibrationFile
      ? {
          calibration: {
            transformation: TRANSFORMATIONS[calibrationOptions.byte(0)] ?? 'identity',
            defaultScore: calibrationOptions.float(1),
            file: calibrationFile.name,
          },
        }
      : {}),
  };
}

/** The label file for a locale ("zh-CN" takes a "zh" file), else the default one. */
export function labelFileFor(metadata: TfliteMetadata, locale: string | undefined): string | null {
  const language = locale?.toLowerCase().split('-')[0];
  const localized = language
    ? metadata.labelFiles.find((f) => f.locale.toLowerCase().split(/[-_]/)[0] === language)
    : undefined;
  return (localized ?? metadata.labelFiles[0])?.name ?? null;
}
