import type { Compute } from "../kernels/Compute.js";
import { isSharedBuffer, type Region } from "../kernels/WasmHeap.js";
import type { ModelFile } from "../format/modelFile.js";
import { TENSOR_NAMES, type TensorType, type TensorView } from "../format/tensor.js";
import { dequantizeWeightRow, interleaveInPlace, isInterleavedType, type RowLayout } from "./interleavedRows.js";
import { GGML_TYPES, dequantizeTensorRow } from "../format/gguf/ggmlTypes.js";
import { queryDim, type ModelConfig } from "./config.js";
import { FileFormatError } from "../util/errors.js";

/**
 * The model's weights in the wasm heap in their stored type (f32, f16, bf16, q8_0, q4_0, q4_k, q5_k and q6_k stay as
 * they are; kernels read them directly, dispatched on GGML_TYPES[type].kernels). When the model file was read into the heap (Engine does this), a matrix is the file's own
 * bytes, used in place; otherwise it is copied in once. Quantized matrices that the matvec kernels read are put in
 * the interleaved row layout in place (interleavedRows.ts). Only the 1-D norm weights are widened to f32.
 */
export interface WeightMatrix {
  readonly name: string;
  readonly type: TensorType;
  /** outputs */
  readonly rows: number;
  /** inputs */
  readonly cols: number;
  /** rows x cols in the stored layout of `type` and `layout` (see kernelExports.ts); may lie inside the file's region */
  readonly region: Region;
  /** the same bytes (row lookups on the TypeScript side go through rowOf, which knows the layout) */
  readonly bytes: Uint8Array;
  readonly layout: RowLayout;
}

/** Row `row` of a weight matrix (a token's embedding), dequantized to out[0..cols). */
export function rowOf(m: WeightMatrix, row: number, out: Float32Array): void {
  dequantizeWeightRow(m.type, m.layout, m.bytes, m.rows, m.cols, row, out);
}

export interface LayerWeights {
  /** [dim] f32 */
  readonly attnNorm: Region;
  /** [qDim, dim] */
  readonly wq: WeightMatrix;
  /** [kvDim, dim] */
  readonly wk: WeightMatrix;
  readonly wv: WeightMatrix;
  /** q/k/v biases, [qDim], [kvDim], [kvDim] f32, when config.arch.qkvBias */
  readonly qkvBias: { readonly q: Region; readonly k: Region; readonly v: Region } | undefined;
  /** per-head q/k RMSNorm weights, [headDim] f32 each, when config.arch.qkNorm */
  readonly qkNorm: { readonly q: Region; readonly k: Region } | undefined;
  /** [dim, qDim] */
  readonly wo: WeightMatrix;
  /** [dim] f32 */
  readonly ffnNorm: Region;
  readonly gate: WeightMatrix;
  readonly up: WeightMatrix;
  readonly down: WeightMatrix;
}

export interface Weights {
  /** [vocab, dim]: rows are read on the TypeScript side (one per token) */
  readonly tokenEmbedding: WeightMatrix;
  readonly layers: readonly LayerWeights[];
  /** [dim] f32 */
  readonly outputNorm: Region;
  /** [vocab, dim]: the token embedding itself when the classifier is tied */
  readonly output: WeightMatrix;
  /** every region the weights own, the model file's included when it lives in the heap (dispose and accounting) */
  readonly regions: readonly Region[];
}

/** `fileRegion`: the heap region holding the file's bytes, if it was read into the heap (its tensors are used in place). */
export function loadWeights(compute: Compute, file: ModelFile, fileRegion?: Region): Weights {
  const { config } = file;
  const regions: Region[] = fileRegion ? [fileRegion] : [];
  const heap = compute.heap;

  const tensor = (name: string): TensorView => {
    const t = file.tensors.get(name);
    if (!t) throw new FileFormatError(file.path, `missing tensor ${name}`);
    return t;
  };
  /** `forMatvec`: the matvec kernels read it, so quantized bytes are interleaved. */
  const matrix = (name: string, rows: number, cols: number, forMatvec = true): WeightMatrix => {
    const t = tensor(name);
    if (t.shape.length !== 2 || t.shape[0] !== cols || t.shape[1] !== rows) {
      throw new FileFormatError(file.path, `tensor ${name} has shape [${t.shape.join(", ")}], expected [${cols}, ${rows}]`);
    }
    const traits = GGML_TYPES[t.type];
    if (cols % traits.blockSize !== 0) {
      throw new FileFormatError(file.path, `tensor ${name}: ${traits.name} rows of ${cols} values are not whole blocks of ${traits.blockSize}`);
    }
    let region: Region;
    let bytes: Uint8Array;
    if (fileRegion && inRegion(t.data, fileRegion)) {
      region = { ptr: t.data.byteOffset, byteLength: t.data.byteLength };
      bytes = t.data;
    } else {
      // copied, so the file's buffer can be dropped once loading is done
      region = heap.alloc(t.data.byteLength, `weights ${name}`);
      bytes = heap.u8(region);
      bytes.set(t.data);
      regions.push(region);
    }
    let layout: RowLayout = "plain";
    if (forMatvec && isInterleavedType(t.type)) {
      interleaveInPlace(compute, t.type, region.ptr, rows, cols);
      layout = "interleaved4";
    }
    return { name, type: t.type, rows, cols, region, bytes, layout };
  };
  /** A 1-D f32 vector (norm weights, biases). */
  const norm = (name: string, dim: number): Region => {
    const t = tensor(name);
    if (t.shape.length !== 1 || t.shape[0] !== dim) {
      throw new FileFormatError(file.path, `tensor ${name} has shape [${t.shape.join(", ")}], expected [${dim}]`);
    }
    const region = heap.alloc(dim * 4, `weights ${name}`);
    dequantizeTensorRow(t, 0, heap.f32(region, 0, dim));
    regions.push(region);
    return region;
  };

  const { dim, hiddenDim, nLayers, headDim, nKvHeads, vocabSize, arch } = config as ModelConfig;
  const kvDim = nKvHeads * headDim;
  const qDim = queryDim(config);
  const tiedOutput = !file.tensors.has(TENSOR_NAMES.output);
  const tokenEmbedding = matrix(TENSOR_NAMES.tokenEmbedding, vocabSize, dim, tiedOutput);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    layers.push({
      attnNorm: norm(TENSOR_NAMES.attnNorm(l), dim),
      wq: matrix(TENSOR_NAMES.wq(l), qDim, dim),
      wk: matrix(TENSOR_NAMES.wk(l), kvDim, dim),
      wv: matrix(TENSOR_NAMES.wv(l), kvDim, dim),
      qkvBias: arch.qkvBias
        ? { q: norm(TENSOR_NAMES.qBias(l), qDim), k: norm(TENSOR_NAMES.kBias(l), kvDim), v: norm(TENSOR_NAMES.vBias(l), kvDim) }
        : undefined,
      qkNorm: arch.qkNorm ? { q: norm(TENSOR_NAMES.qNorm(l), headDim), k: norm(TENSOR_NAMES.kNorm(l), headDim) } : undefined,
      wo: matrix(TENSOR_NAMES.wo(l), dim, qDim),
      ffnNorm: norm(TENSOR_NAMES.ffnNorm(l), dim),
      gate: matrix(TENSOR_NAMES.ffnGate(l), hiddenDim, dim),
      up: matrix(TENSOR_NAMES.ffnUp(l), hiddenDim, dim),
      down: matrix(TENSOR_NAMES.ffnDown(l), dim, hiddenDim),
    });
  }
  const outputNorm = norm(TENSOR_NAMES.outputNorm, dim);
  const output = tiedOutput ? tokenEmbedding : matrix(TENSOR_NAMES.output, vocabSize, dim);
  return { tokenEmbedding, layers, outputNorm, output, regions };
}

/** True when `bytes` is a view of the heap lying inside `region`. */
function inRegion(bytes: Uint8Array, region: Region): boolean {
  return isSharedBuffer(bytes.buffer) && bytes.byteOffset >= region.ptr && bytes.byteOffset + bytes.byteLength <= region.ptr + region.byteLength;
}

/** Bytes of weights one decode step streams (every matrix once; the embedding row is negligible unless tied). */
export function weightBytesPerToken(weights: Weights): number {
  let bytes = weights.output.region.byteLength;
  for (const l of weights.layers) {
    for (const m of [l.wq, l.wk, l.wv, l.wo, l.gate, l.up, l.down]) bytes += m.region.byteLength;
  }
  return bytes;
}

export function freeWeights(compute: Compute, weights: Weights): void {
  for (const r of weights.regions) compute.heap.free(r);
}
