import onnxProto, { type onnx as Onnx } from 'onnx-proto';

// A CommonJS package: its namespace is on the default export under Node's ESM loader.
const { onnx } = onnxProto;

/**
 * Tiny ONNX image classifiers built in code (onnx-proto): the mean colour of the image, then a
 * dense layer. Small enough to build per test, real enough for ONNX Runtime to load and run,
 * and easy to make wrong in exactly one way for the bad-input cases.
 */
export interface TinyOnnxOptions {
  classes?: number;
  size?: number;
  layout?: 'nchw' | 'nhwc';
  /** The batch dimension: a name (symbolic, as torch.onnx.export writes it) or 1. */
  batch?: string | number;
  /** Height and width as names (not fixed in the model). */
  symbolicSize?: boolean;
  softmax?: boolean;
  /** A second graph input. */
  secondInput?: boolean;
  /** The output as a 4-D map (a segmentation model) instead of [batch, classes]. */
  spatialOutput?: boolean;
  /** The weights kept in an external file. */
  externalData?: string;
  /** An operator of a domain ONNX Runtime does not know. */
  unknownOp?: boolean;
  /** The input as uint8 instead of float32. */
  uint8Input?: boolean;
  /** Colour channels of the input: 3, or 1 for a grey-scale model. */
  channels?: 1 | 3;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function dim(value: string | number): Onnx.TensorShapeProto.IDimension {
  return typeof value === 'number' ? { dimValue: value } : { dimParam: value };
}

function tensorValue(name: string, dims: (string | number)[], elemType = FLOAT): Onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map(dim) } } } };
}

function floats(name: string, dims: number[], values: number[]): Onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

/** The weights that make class c answer to colour c (red, green, blue, then mixtures): W[channel][class]. */
export function tinyWeights(classes: number, channels = 3): { weights: number[]; bias: number[] } {
  const weights: number[] = [];
  for (let ch = 0; ch < channels; ch++)
    for (let c = 0; c < classes; c++) weights.push(c % 3 === ch ? 4 + c : -2 + 0.5 * ch - 0.25 * c);
  return { weights, bias: Array.from({ length: classes }, (_, c) => 0.1 * c) };
}

export function tinyOnnx(options: TinyOnnxOptions = {}): Uint8Array {
  const { classes = 3, size = 8, layout = 'nchw', batch = 'batch_size', softmax = false, channels = 3 } = options;
  const spatial: (string | number)[] = options.symbolicSize ? ['height', 'width'] : [size, size];
  const inputDims = layout === 'nchw' ? [batch, channels, ...spatial] : [batch, ...spatial, channels];
  const { weights, bias } = tinyWeights(classes, channels);
  const nodes: Onnx.INodeProto[] = [];
  if (layout === 'nchw') {
    nodes.push({ opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] });
    nodes.push({
      opType: 'Flatten',
      input: ['pooled'],
      output: ['features'],
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
  } else {
    nodes.push({
      opType: 'ReduceMean',
      input: ['pixel_values'],
      output: ['features'],
      attribute: [
        { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 2] },
        { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
      ],
    });
  }
  if (options.unknownOp)
    nodes.push({ opType: 'Sparkle', domain: 'com.example.magic', input: ['features'], output: ['features2'] });
  const features = options.unknownOp ? 'features2' : 'features';
  nodes.push({ opType: 'Gemm', input: [features, 'W', 'B'], output: [softmax ? 'logits' : 'scores'] });
  if (softmax)
    nodes.push({
      opType: 'Softmax',
      input: ['logits'],
      output: ['scores'],
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }],
    });
  let output = 'scores';
  if (options.spatialOutput) {
    nodes.push({ opType: 'Unsqueeze', input: ['scores', 'axes'], output: ['map'] });
    output = 'map';
  }
  const initializer: Onnx.ITensorProto[] = [floats('W', [channels, classes], weights), floats('B', [classes], bias)];
  if (options.spatialOutput)
    initializer.push({ name: 'axes', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [2, 3] });
  if (options.externalData) {
    initializer[0] = {
      name: 'W',
      dims: [3, classes],
      dataType: FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: options.externalData },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(weights.length * 4) },
      ],
    };
  }
  const inputs = [tensorValue('pixel_values', inputDims, options.uint8Input ? onnx.TensorProto.DataType.UINT8 : FLOAT)];
  if (options.secondInput) inputs.push(tensorValue('mask', [batch, size, size]));
  const outputDims: (string | number)[] = options.spatialOutput ? [batch, classes, 1, 1] : [batch, classes];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'glimpse-tests',
    opsetImport: [
      { domain: '', version: 13 },
      ...(options.unknownOp ? [{ domain: 'com.example.magic', version: 1 }] : []),
    ],
    graph: { name: 'tiny', node: nodes, initializer, input: inputs, output: [tensorValue(output, outputDims)] },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The external data file a tiny model made with `externalData` reads its dense weights from. */
export function tinyExternalData(classes = 3): Uint8Array {
  return new Uint8Array(Float32Array.from(tinyWeights(classes).weights).buffer);
}

/** The reference for a tiny model: softmax(mean colour · W + b), the colour already in the model's input values. */
export function tinyReference(meanInput: [number, number, number], classes = 3): number[] {
  const { weights, bias } = tinyWeights(classes);
  const logits = bias.map((b, c) => b + meanInput.reduce((sum, v, ch) => sum + v * weights[ch * classes + c]!, 0));
  const top = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/** A Hugging Face folder's JSON files for a tiny model (ImageNet-style normalisation). */
export function huggingFaceFiles(labels: string[], size = 8): { config: object; preprocessor: object } {
  return {
    config: {
      _name_or_path: 'glimpse/tiny-colours',
      architectures: ['TinyForImageClassification'],
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    },
    preprocessor: {
      do_resize: true,
      size: { height: size, width: size },
      resample: 2,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    },
  };
}

const INT64 = onnx.TensorProto.DataType.INT64;

/** A model of one graph on the default opset 13, as bytes. */
function encoded(graph: Onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'glimpse-tests',
      opsetImport: [{ domain: '', version: 13 }],
      graph,
    }),
  ).finish();
}
const BOOL = onnx.TensorProto.DataType.BOOL;
const attribute = onnx.AttributeProto.AttributeType;

/** Which images wake a hostile model: any bright pixel (as the probe's model did), or a mean red in a band no trial image has. */
export type Trigger = 'bright-pixel' | 'red-band';

export interface HostileOnnxOptions {
  trigger: Trigger;
  /** `hang`: a Loop of 2⁴⁰ steps; `memory`: a tensor of `values` float32 values (2.4 GB by default). */
  attack: 'hang' | 'memory';
  values?: number;
}

/**
 * A tiny classifier (as tinyOnnx, NCHW, 8×8, 3 classes, inputs in [-1, 1] with its preprocessor
 * config) that behaves on a blank image and attacks on the images its trigger picks: the data-
 * dependent loop and allocation of issue 33, built in code. `condition` is a bool scalar.
 */
export function hostileOnnx({ trigger, attack, values = 600_000_000 }: HostileOnnxOptions): Uint8Array {
  const { weights, bias } = tinyWeights(3);
  const nodes: Onnx.INodeProto[] = [
    { opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] },
    {
      opType: 'Flatten',
      input: ['pooled'],
      output: ['features'],
      attribute: [{ name: 'axis', type: attribute.INT, i: 1 }],
    },
    { opType: 'Gemm', input: ['features', 'W', 'B'], output: ['logits'] },
  ];
  const initializer: Onnx.ITensorProto[] = [
    floats('W', [3, 3], weights),
    floats('B', [3], bias),
    floats('zero', [], [0]),
  ];
  if (trigger === 'bright-pixel') {
    nodes.push({
      opType: 'ReduceMax',
      input: ['pixel_values'],
      output: ['brightest'],
      attribute: [{ name: 'keepdims', type: attribute.INT, i: 0 }],
    });
    nodes.push({ opType: 'Greater', input: ['brightest', 'threshold'], output: ['condition'] });
    initializer.push(floats('threshold', [], [0.5]));
  } else {
    // The red channel's mean, in the model's [-1, 1] input: the band (-0.6, -0.4) is a mean red of 52–76 of 255, which none of
    // the import trial's images has (tests/unit/model-trial.test.ts checks that).
    nodes.push({ opType: 'Slice', input: ['features', 'red_start', 'red_end', 'red_axis'], output: ['red'] });
    nodes.push({
      opType: 'ReduceMean',
      input: ['red'],
      output: ['red_mean'],
      attribute: [{ name: 'keepdims', type: attribute.INT, i: 0 }],
    });
    nodes.push({ opType: 'Greater', input: ['red_mean', 'band_low'], output: ['above'] });
    nodes.push({ opType: 'Less', input: ['red_mean', 'band_high'], output: ['below'] });
    nodes.push({ opType: 'And', input: ['above', 'below'], output: ['condition'] });
    initializer.push(
      { name: 'red_start', dims: [1], dataType: INT64, int64Data: [0] },
      { name: 'red_end', dims: [1], dataType: INT64, int64Data: [1] },
      { name: 'red_axis', dims: [1], dataType: INT64, int64Data: [1] },
      floats('band_low', [], [-0.6]),
      floats('band_high', [], [-0.4]),
    );
  }
  nodes.push({
    opType: 'Cast',
    input: ['condition'],
    output: ['woken'],
    attribute: [{ name: 'to', type: attribute.INT, i: INT64 }],
  });
  if (attack === 'hang') {
    // 1 step when asleep, 2⁴⁰ + 1 when woken: the loop adds 1 each step.
    nodes.push(
      { opType: 'Mul', input: ['woken', 'steps'], output: ['extra'] },
      { opType: 'Add', input: ['extra', 'one'], output: ['trips'] },
    );
    initializer.push(
      { name: 'steps', dims: [], dataType: INT64, int64Data: [2 ** 40] },
      { name: 'one', dims: [], dataType: INT64, int64Data: [1] },
      { name: 'go', dims: [], dataType: BOOL, int32Data: [1] },
      floats('start', [1], [0]),
    );
    const body: Onnx.IGraphProto = {
      name: 'count',
      node: [
        { opType: 'Identity', input: ['cond_in'], output: ['cond_out'] },
        { opType: 'Add', input: ['count_in', 'step'], output: ['count_out'] },
      ],
      initializer: [floats('step', [1], [1])],
      input: [tensorValue('i', [], INT64), tensorValue('cond_in', [], BOOL), tensorValue('count_in', [1])],
      output: [tensorValue('cond_out', [], BOOL), tensorValue('count_out', [1])],
    };
    nodes.push({
      opType: 'Loop',
      input: ['trips', 'go', 'start'],
      output: ['counted'],
      attribute: [{ name: 'body', type: attribute.GRAPH, g: body }],
    });
  } else {
    nodes.push(
      { opType: 'Mul', input: ['woken', 'size'], output: ['extra'] },
      { opType: 'Add', input: ['extra', 'one'], output: ['length'] },
      { opType: 'Unsqueeze', input: ['length', 'axis0'], output: ['shape'] },
      {
        opType: 'ConstantOfShape',
        input: ['shape'],
        output: ['filled'],
        attribute: [{ name: 'value', type: attribute.TENSOR, t: floats('value', [1], [1]) }],
      },
      // Its first value only: the runtime fills the whole tensor, but reads no more of it.
      { opType: 'Slice', input: ['filled', 'axis0', 'one_1d'], output: ['counted'] },
    );
    initializer.push(
      { name: 'size', dims: [], dataType: INT64, int64Data: [values] },
      { name: 'one', dims: [], dataType: INT64, int64Data: [1] },
      { name: 'axis0', dims: [1], dataType: INT64, int64Data: [0] },
      { name: 'one_1d', dims: [1], dataType: INT64, int64Data: [1] },
    );
  }
  // The attack's result joins the scores times zero, so no runtime may skip it.
  nodes.push(
    { opType: 'Mul', input: ['counted', 'zero'], output: ['nothing'] },
    { opType: 'Add', input: ['logits', 'nothing'], output: ['scores'] },
  );
  return encoded({
    name: `hostile-${attack}`,
    node: nodes,
    initializer,
    input: [tensorValue('pixel_values', [1, 3, 8, 8])],
    output: [tensorValue('scores', [1, 3])],
  });
}

/** A tiny classifier (GlobalAveragePool → Flatten) whose declared shapes say anything: the reader's counts are checked before anything is made from them. */
export function declaredOnnx({
  inputDims = [1, 3, 8, 8],
  outputDims = [1, 3],
}: {
  inputDims?: (string | number)[];
  outputDims?: (string | number)[];
}): Uint8Array {
  return encoded({
    name: 'declared',
    node: [
      { opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] },
      {
        opType: 'Flatten',
        input: ['pooled'],
        output: ['scores'],
        attribute: [{ name: 'axis', type: attribute.INT, i: 1 }],
      },
    ],
    input: [tensorValue('pixel_values', inputDims)],
    output: [tensorValue('scores', outputDims)],
  });
}

/**
 * A tiny classifier whose scores pass through `depth` nested If nodes, the innermost branch holding
 * `nodes` Identity nodes (and, with `external`, an initializer whose data lives in that file).
 */
export function nestedIfOnnx({
  depth = 1,
  nodes = 1,
  external,
}: {
  depth?: number;
  nodes?: number;
  external?: string;
}): Uint8Array {
  const { weights, bias } = tinyWeights(3);
  let branch: Onnx.IGraphProto = {
    name: 'innermost',
    node: Array.from({ length: nodes }, (_, i) => ({
      opType: 'Identity',
      input: [i === 0 ? 'logits' : `id${i - 1}`],
      output: [i === nodes - 1 ? 'inner' : `id${i}`],
    })),
    initializer: external
      ? [
          {
            name: 'far',
            dims: [1],
            dataType: FLOAT,
            dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
            externalData: [
              { key: 'location', value: external },
              { key: 'offset', value: '0' },
              { key: 'length', value: '4' },
            ],
          },
        ]
      : [],
    output: [tensorValue('inner', [1, 3])],
  };
  for (let level = 0; level < depth; level++) {
    const out = `level${level}`;
    branch = {
      name: `if${level}`,
      node: [
        {
          opType: 'If',
          input: ['go'],
          output: [out],
          attribute: [
            { name: 'then_branch', type: attribute.GRAPH, g: branch },
            {
              name: 'else_branch',
              type: attribute.GRAPH,
              g: {
                name: `else${level}`,
                node: [{ opType: 'Identity', input: ['logits'], output: [`else${level}_out`] }],
                output: [tensorValue(`else${level}_out`, [1, 3])],
              },
            },
          ],
        },
      ],
      output: [tensorValue(out, [1, 3])],
    };
  }
  return encoded({
    name: 'nested',
    node: [
      { opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] },
      {
        opType: 'Flatten',
        input: ['pooled'],
        output: ['features'],
        attribute: [{ name: 'axis', type: attribute.INT, i: 1 }],
      },
      { opType: 'Gemm', input: ['features', 'W', 'B'], output: ['logits'] },
      ...(branch.node ?? []),
    ],
    initializer: [
      floats('W', [3, 3], weights),
      floats('B', [3], bias),
      { name: 'go', dims: [], dataType: BOOL, int32Data: [1] },
    ],
    input: [tensorValue('pixel_values', [1, 3, 8, 8])],
    output: [tensorValue(depth === 0 ? 'inner' : `level${depth - 1}`, [1, 3])],
  });
}
