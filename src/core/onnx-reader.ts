import { ModelFormatError } from './errors';

/**
 * What Glimpse needs to know of an ONNX model before any runtime sees it: its graph's inputs
 * and outputs with their shapes, the operators, the opsets, and whether weights live in
 * external files. Read straight from the protobuf wire format, skipping every weight's
 * bytes, with each length and count checked against the bytes present: a crafted file costs
 * at most a walk over its own bytes, never an allocation it names.
 */

export interface OnnxValue {
  name: string;
  /** TensorProto.DataType: 1 float32, 2 uint8, 3 int8, 10 float16, 7 int64… (0: not a tensor). */
  elemType: number;
  /** Each dimension: a size, a symbolic name ("batch_size"), or null when unstated; null for an unknown rank. */
  dims: (number | string | null)[] | null;
}

export interface OnnxNode {
  opType: string;
  domain: string;
  outputs: string[];
}

export interface OnnxGraph {
  irVersion: number;
  producer: string;
  opsets: Record<string, number>;
  /** The graph's inputs that are fed (initializers listed as inputs by older exporters are left out). */
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  nodes: OnnxNode[];
  /** The files that initializers' external data points to. */
  externalFiles: string[];
}

const MAX_ENTRIES = 200_000;
const MAX_RANK = 8;
/** How deep subgraphs (If, Loop, Scan bodies) may nest. */
const MAX_DEPTH = 16;

const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** A bounded view of protobuf bytes: every read checks the bytes are there. */
class Wire {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    private readonly path: string,
  ) {
    this.pos = start;
  }

  fail(why: string): never {
    throw new ModelFormatError(`${this.path}: ${why}`);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('a number runs past the end of its field');
      const byte = this.bytes[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    this.fail('a number is longer than 10 bytes');
  }

  /** The bounds of a length-delimited field's bytes. */
  span(): [number, number] {
    const length = this.varint();
    if (length > this.end - this.pos) this.fail(`a field claims ${length} bytes, but ${this.end - this.pos} are left`);
    const start = this.pos;
    this.pos += length;
    return [start, this.pos];
  }

  sub(path: string): Wire {
    const [start, end] = this.span();
    return new Wire(this.bytes, start, end, `${this.path}.${path}`);
  }

  string(): string {
    const [start, end] = this.span();
    if (end - start > 4096) this.fail('a name is over 4096 bytes');
    return new TextDecoder().decode(this.bytes.subarray(start, end));
  }

  skip(wireType: number): void {
    if (wireType === WIRE.varint) this.varint();
    else if (wireType === WIRE.bytes) this.span();
    else if (wireType === WIRE.fixed64 || wireType === WIRE.fixed32) {
      const size = wireType === WIRE.fixed64 ? 8 : 4;
      if (this.end - this.pos < size) this.fail('a fixed-size field runs past the end');
      this.pos += size;
    } else this.fail(`wire type ${wireType} is not protobuf's (not an ONNX file?)`);
  }

  /** Calls `field` for every (number, wire type) of this message, skipping what it does not read. */
  fields(field: (number: number, wireType: number) => boolean): void {
    let count = 0;
    while (!this.done) {
      if (++count > MAX_ENTRIES * 4) this.fail(`over ${MAX_ENTRIES * 4} fields`);
      const key = this.varint();
      const [number, wireType] = [Math.floor(key / 8), key % 8];
      if (number === 0) this.fail('field number 0 (not an ONNX file?)');
      if (!field(number, wireType)) this.skip(wireType);
    }
  }
}

function readDims(shape: Wire): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  shape.fields((n, t) => {
    if (n !== 1 || t !== WIRE.bytes) return false;
    if (dims.length >= MAX_RANK) shape.fail(`a shape has over ${MAX_RANK} dimensions`);
    const dim = shape.sub(`dim[${dims.length}]`);
    let value: number | string | null = null;
    dim.fields((dn, dt) => {
      // int64 on the wire: a negative size (-1, as some exporters write a free one) reads as 2⁶⁴ - 1 and is not a size.
      if (dn === 1 && dt === WIRE.varint) {
        const size = dim.varint();
        value = size >= 2 ** 63 ? null : size;
      } else if (dn === 2 && dt === WIRE.bytes) value = dim.string() || null;
      else return false;
      return true;
    });
    dims.push(value);
    return true;
  });
  return dims;
}

function readValue(wire: Wire): OnnxValue {
  const value: OnnxValue = { name: '', elemType: 0, dims: null };
  wire.fields((n, t) => {
    if (n === 1 && t === WIRE.bytes) value.name = wire.string();
    else if (n === 2 && t === WIRE.bytes) {
      const type = wire.sub('type');
      type.fields((tn, tt) => {
        if (tn !== 1 || tt !== WIRE.bytes) return false;
        const tensor = type.sub('tensor_type');
        tensor.fields((en, et) => {
          if (en === 1 && et === WIRE.varint) value.elemType = tensor.varint();
          else if (en === 2 && et === WIRE.bytes) value.dims = readDims(tensor.sub('shape'));
          else return false;
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return value;
}

/** What a walk over a model's graphs counts and collects, subgraphs included. */
interface Walk {
  entries: number;
  external: Set<string>;
}

function counted(wire: Wire, walk: Walk): void {
  if (++walk.entries > MAX_ENTRIES)
    wire.fail(`over ${MAX_ENTRIES} nodes, initializers and values (subgraphs included)`);
}

function readNode(wire: Wire, walk: Walk, depth: number): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', outputs: [] };
  wire.fields((n, t) => {
    if (t !== WIRE.bytes) return false;
    if (n === 2) {
      if (node.outputs.length >= 1024) wire.fail('a node has over 1024 outputs');
      node.outputs.push(wire.string());
    } else if (n === 4) node.opType = wire.string();
    else if (n === 7) node.domain = wire.string();
    else if (n === 5) readAttribute(wire.sub('attribute'), walk, depth);
    else return false;
    return true;
  });
  return node;
}

/** An attribute's subgraphs (AttributeProto g and graphs: the bodies of If, Loop and Scan), walked like the main graph. */
function readAttribute(wire: Wire, walk: Walk, depth: number): void {
  wire.fields((n, t) => {
    if (t !== WIRE.bytes || (n !== 6 && n !== 11)) return false;
    readSubgraph(wire.sub('subgraph'), walk, depth + 1);
    return true;
  });
}

/** A subgraph: its nodes, initializers and values count towards the model's limit, and its external data is the model's. */
function readSubgraph(wire: Wire, walk: Walk, depth: number): void {
  if (depth > MAX_DEPTH) wire.fail(`subgraphs nested over ${MAX_DEPTH} deep`);
  wire.fields((n, t) => {
    if (t !== WIRE.bytes) return false;
    if (n === 1) {
      counted(wire, walk);
      readNode(wire.sub('node'), walk, depth);
    } else if (n === 5) {
      counted(wire, walk);
      const initializer = readInitializer(wire.sub('initializer'));
      if (initializer.external) walk.external.add(initializer.external);
    } else if (n === 11 || n === 12 || n === 13) {
      counted(wire, walk);
      wire.span();
    } else return false;
    return true;
  });
}

/** An initializer's name and, where its data is external, the file it names. */
function readInitializer(wire: Wire): { name: string; external: string | null } {
  let name = '';
  let external = false;
  let location: string | null = null;
  wire.fields((n, t) => {
    if (n === 8 && t === WIRE.bytes) name = wire.string();
    else if (n === 14 && t === WIRE.varint) external = wire.varint() === 1;
    else if (n === 13 && t === WIRE.bytes) {
      const entry = wire.sub('external_data');
      let key = '';
      let value = '';
      entry.fields((en, et) => {
        if (et !== WIRE.bytes || (en !== 1 && en !== 2)) return false;
        if (en === 1) key = entry.string();
        else value = entry.string();
        return true;
      });
      if (key === 'location') location = value;
    } else return false;
    return true;
  });
  return { name, external: external ? (location ?? '(unnamed)') : null };
}

function readGraph(wire: Wire, graph: OnnxGraph): void {
  const declared: OnnxValue[] = [];
  const initializers = new Set<string>();
  const walk: Walk = { entries: 0, external: new Set() };
  wire.fields((n, t) => {
    if (t !== WIRE.bytes) return false;
    if (n === 1) {
      counted(wire, walk);
      graph.nodes.push(readNode(wire.sub(`node[${graph.nodes.length}]`), walk, 0));
    } else if (n === 5) {
      counted(wire, walk);
      const initializer = readInitializer(wire.sub('initializer'));
      initializers.add(initializer.name);
      if (initializer.external) walk.external.add(initializer.external);
    } else if (n === 11) {
      counted(wire, walk);
      declared.push(readValue(wire.sub(`input[${declared.length}]`)));
    } else if (n === 12) {
      counted(wire, walk);
      graph.outputs.push(readValue(wire.sub(`output[${graph.outputs.length}]`)));
    } else return false;
    return true;
  });
  graph.inputs = declared.filter((input) => !initializers.has(input.name));
  graph.externalFiles = [...walk.external];
}

/** Reads an ONNX ModelProto's graph interface; a ModelFormatError names what is wrong. */
export function readOnnx(bytes: Uint8Array, fileName = 'model.onnx'): OnnxGraph {
  const graph: OnnxGraph = {
    irVersion: 0,
    producer: '',
    opsets: {},
    inputs: [],
    outputs: [],
    nodes: [],
    externalFiles: [],
  };
  const model = new Wire(bytes, 0, bytes.byteLength, fileName);
  let graphs = 0;
  model.fields((n, t) => {
    if (n === 1 && t === WIRE.varint) graph.irVersion = model.varint();
    else if (n === 2 && t === WIRE.bytes) graph.producer = model.string();
    else if (n === 7 && t === WIRE.bytes) {
      graphs++;
      readGraph(model.sub('graph'), graph);
    } else if (n === 8 && t === WIRE.bytes) {
      const opset = model.sub('opset_import');
      let domain = '';
      let version = 0;
      opset.fields((on, ot) => {
        if (on === 1 && ot === WIRE.bytes) domain = opset.string();
        else if (on === 2 && ot === WIRE.varint) version = opset.varint();
        else return false;
        return true;
      });
      graph.opsets[domain || 'ai.onnx'] = version;
    } else return false;
    return true;
  });
  if (graphs !== 1 || graph.irVersion === 0)
    throw new ModelFormatError(
      `${fileName} is not an ONNX model (${graphs === 0 ? 'no graph' : `${graphs} graphs`}${graph.irVersion === 0 ? ', no IR version' : ''})`,
    );
  return graph;
}
