/**
 * A minimal ONNX writer (float32 initializers, int64 and int8 ones for shapes and quantized weights;
 * opset 13) for tests and benchmarks: builds models to feed onnxruntime-node (the float reference) and
 * the importer. Typed-array data is written as raw little-endian bytes (large weights).
 */
import onnxPkg from "onnx-proto";
import type { Mlp } from "../train/mlp.ts";

const { onnx } = onnxPkg;

export interface OnnxNodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  ints?: Record<string, number[]>;
  int?: Record<string, number>;
  float?: Record<string, number>;
}

export interface OnnxGraphSpec {
  /** int64: an integer input (token ids) */
  input: { name: string; shape: (number | string)[]; int64?: boolean };
  output: { name: string; shape: (number | string)[] };
  initializers: { name: string; shape: number[]; data: ArrayLike<number>; int64?: boolean; int8?: boolean }[];
  nodes: OnnxNodeSpec[];
}

function valueInfo(name: string, shape: (number | string)[], int64 = false) {
  return {
    name,
    type: { tensorType: { elemType: int64 ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
  };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** ONNX raw_data: the elements' little-endian bytes. */
function rawBytes(a: Float32Array | Int8Array): Uint8Array {
  if (a instanceof Int8Array || LITTLE_ENDIAN_HOST) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new DataView(new ArrayBuffer(a.byteLength));
  a.forEach((v, i) => out.setFloat32(4 * i, v, true));
  return new Uint8Array(out.buffer);
}

export function encodeOnnx(g: OnnxGraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "oao-tests",
    graph: {
      name: "g",
      input: [valueInfo(g.input.name, g.input.shape, g.input.int64)],
      output: [valueInfo(g.output.name, g.output.shape)],
      initializer: g.initializers.map((t) =>
        t.int64
          ? { name: t.name, dims: t.shape, dataType: onnx.TensorProto.DataType.INT64, int64Data: Array.from(t.data) }
          : t.int8
            ? { name: t.name, dims: t.shape, dataType: onnx.TensorProto.DataType.INT8, rawData: rawBytes(t.data instanceof Int8Array ? t.data : Int8Array.from(t.data)) }
            : t.data instanceof Float32Array
              ? { name: t.name, dims: t.shape, dataType: onnx.TensorProto.DataType.FLOAT, rawData: rawBytes(t.data) }
              : { name: t.name, dims: t.shape, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(t.data) },
      ),
      node: g.nodes.map((n, i) => ({
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${i}`,
        attribute: [
          ...Object.entries(n.ints ?? {}).map(([name, ints]) => ({ name, ints, type: onnx.AttributeProto.AttributeType.INTS })),
          ...Object.entries(n.int ?? {}).map(([name, i]) => ({ name, i, type: onnx.AttributeProto.AttributeType.INT })),
          ...Object.entries(n.float ?? {}).map(([name, f]) => ({ name, f, type: onnx.AttributeProto.AttributeType.FLOAT })),
        ],
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A float MLP as ONNX: Gemm(transB) + Relu per hidden layer, then Softmax. Input "x" [N, in]. */
export function mlpToOnnx(mlp: Mlp, batch: number | string = "N"): Uint8Array {
  const nodes: OnnxNodeSpec[] = [];
  const initializers: OnnxGraphSpec["initializers"] = [];
  let cur = "x";
  mlp.layers.forEach((L, l) => {
    initializers.push({ name: `w${l}`, shape: [L.outSize, L.inSize], data: L.w }, { name: `b${l}`, shape: [L.outSize], data: L.b });
    nodes.push({ op: "Gemm", inputs: [cur, `w${l}`, `b${l}`], outputs: [`g${l}`], int: { transB: 1 } });
    cur = `g${l}`;
    if (l < mlp.layers.length - 1) {
      nodes.push({ op: "Relu", inputs: [cur], outputs: [`r${l}`] });
      cur = `r${l}`;
    }
  });
  nodes.push({ op: "Softmax", inputs: [cur], outputs: ["y"], int: { axis: -1 } });
  const last = mlp.layers[mlp.layers.length - 1]!;
  return encodeOnnx({ input: { name: "x", shape: [batch, mlp.layers[0]!.inSize] }, output: { name: "y", shape: [batch, last.outSize] }, initializers, nodes });
}
