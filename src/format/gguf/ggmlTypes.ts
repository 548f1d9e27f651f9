/**
 * The ggml tensor types this engine reads and writes, one traits record per type in one table (ggml's type-traits
 * style): adding a type means a record here plus its kernel file. Layouts (little-endian):
 *
 *   F32  (ggml id 0):  block of 1 value,    4 bytes: IEEE float32
 *   F16  (ggml id 1):  block of 1 value,    2 bytes: IEEE binary16
 *   Q4_0 (ggml id 2):  block of 32 values,  18 bytes: fp16 d, 16 bytes of nibble pairs (see blockQuant.ts)
 *   Q8_0 (ggml id 8):  block of 32 values,  34 bytes: fp16 d, 32 x int8 (see blockQuant.ts)
 *   Q4_K (ggml id 12): block of 256 values, 144 bytes: fp16 d, dmin, 6-bit scales/mins, 4-bit codes (kQuants.ts)
 *   Q5_K (ggml id 13): block of 256 values, 176 bytes: as Q4_K plus a fifth bit per code (kQuants.ts)
 *   Q6_K (ggml id 14): block of 256 values, 210 bytes: 6-bit codes, 16 int8 scales, fp16 d (kQuants.ts)
 *   BF16 (ggml id 30): block of 1 value,    2 bytes: bfloat16 (the top half of a float32)
 *
 * A row (shape[0] values, the contiguous dimension) is always whole blocks; a tensor is rows stored back to back.
 * Every other ggml type id is known by name only, so an unsupported file fails with a message naming its type.
 */
import type { TensorType, TensorView } from "../tensor.js";
import type { KernelExports } from "../../kernels/kernelExports.js";
import { f16ArrayToF32, f16FromF32Bits, f32ToBf16 } from "../../quant/fp16.js";
import { UsageError } from "../../util/errors.js";
import {
  QK,
  Q4_0_BLOCK_BYTES,
  Q8_0_BLOCK_BYTES,
  dequantizeRowQ4_0,
  dequantizeRowQ8_0,
  quantizeRowQ4_0,
  quantizeRowQ8_0,
} from "./blockQuant.js";
import {
  QK_K, Q4_K_BLOCK_BYTES, Q5_K_BLOCK_BYTES, Q6_K_BLOCK_BYTES, dequantizeRowQ4_K, dequantizeRowQ5_K, dequantizeRowQ6_K,
} from "./kQuants.js";
import { quantizeRowQ4_K, quantizeRowQ5_K, quantizeRowQ6_K } from "./kQuantize.js";

type KernelName = keyof KernelExports;

/**
 * How the kernels read a weight type (src/model/linear.ts and interleavedRows.ts dispatch on this alone):
 *   matvec(begin, end, w, input, out, cols[, rows]) for one token, matmul(begin, end, w, input, out, cols, rows, nTok)
 *   for a block of tokens; `input` says what they multiply: f32 activations, or int8 activations quantized as
 *   llama.cpp does for the type's dot product: "q8_0" (quantize_act_q8_0: blocks of 32, f16 scale) for q8_0/q4_0,
 *   "q8_k" (quantize_act_q8_k: super-blocks of 256, f32 scale, sums of 32) for the K-quants (the quantized
 *   matvecs also take rows: the interleaved layout's whole groups end at rows & ~3).
 *   interleave: the in-place kernel that rewrites whole groups of 4 rows at load (interleave(begin, end, w, scratch,
 *   cols) over groups), and the group layout it makes: "scalesFirst" (per block: the 4 rows' f16 scales, then their
 *   codes; q8_0/q4_0) or "wholeBlocks" (per block: the 4 rows' blocks one after another; K-quants).
 */
/** What a weight type's kernels multiply: f32 activations or one of the two int8 activation layouts. */
export type ActivationKind = "f32" | "q8_0" | "q8_k";

export interface WeightKernels {
  readonly matvec: KernelName;
  readonly matmul: KernelName;
  readonly input: ActivationKind;
  readonly interleave: { readonly kernel: KernelName; readonly layout: "scalesFirst" | "wholeBlocks" } | null;
}

export interface GgmlTypeTraits {
  /** ggml's enum value, as stored in GGUF tensor infos. */
  readonly ggmlId: number;
  /** ggml's name (as in llama.cpp output). */
  readonly name: string;
  /** Values per block. */
  readonly blockSize: number;
  readonly bytesPerBlock: number;
  /** bytes: n/blockSize blocks -> out[0..n); n is a multiple of blockSize. The reference decoding. */
  dequantizeRow(bytes: Uint8Array, n: number, out: Float32Array): void;
  /** values (length a multiple of blockSize) -> out: the blocks, bytesPerBlock each. */
  quantizeRow(values: Float32Array, out: Uint8Array): void;
  readonly kernels: WeightKernels;
}

const floatKernels = (type: "f32" | "f16" | "bf16"): WeightKernels => ({
  matvec: `matvec_${type}`, matmul: `matmul_${type}`, input: "f32", interleave: null,
});
const quantKernels = (type: "q8_0" | "q4_0" | "q4_k" | "q5_k" | "q6_k"): WeightKernels => ({
  matvec: `matvec_${type}`,
  matmul: `matmul_${type}`,
  input: type === "q8_0" || type === "q4_0" ? "q8_0" : "q8_k",
  interleave: { kernel: `interleave_rows_${type}`, layout: type === "q8_0" || type === "q4_0" ? "scalesFirst" : "wholeBlocks" },
});

export const GGML_TYPES: { readonly [T in TensorType]: GgmlTypeTraits } = {
  f32: {
    ggmlId: 0, name: "F32", blockSize: 1, bytesPerBlock: 4,
    dequantizeRow: dequantizeRowF32, quantizeRow: quantizeRowF32, kernels: floatKernels("f32"),
  },
  f16: {
    ggmlId: 1, name: "F16", blockSize: 1, bytesPerBlock: 2,
    dequantizeRow: dequantizeRowF16, quantizeRow: quantizeRowF16, kernels: floatKernels("f16"),
  },
  q4_0: {
    ggmlId: 2, name: "Q4_0", blockSize: QK, bytesPerBlock: Q4_0_BLOCK_BYTES,
    dequantizeRow: dequantizeRowQ4_0, quantizeRow: quantizeRowQ4_0, kernels: quantKernels("q4_0"),
  },
  q8_0: {
    ggmlId: 8, name: "Q8_0", blockSize: QK, bytesPerBlock: Q8_0_BLOCK_BYTES,
    dequantizeRow: dequantizeRowQ8_0, quantizeRow: quantizeRowQ8_0, kernels: quantKernels("q8_0"),
  },
  q4_k: {
    ggmlId: 12, name: "Q4_K", blockSize: QK_K, bytesPerBlock: Q4_K_BLOCK_BYTES,
    dequantizeRow: dequantizeRowQ4_K, quantizeRow: quantizeRowQ4_K, kernels: quantKernels("q4_k"),
  },
  q5_k: {
    ggmlId: 13, name: "Q5_K", blockSize: QK_K, bytesPerBlock: Q5_K_BLOCK_BYTES,
    dequantizeRow: dequantizeRowQ5_K, quantizeRow: quantizeRowQ5_K, kernels: quantKernels("q5_k"),
  },
  q6_k: {
    ggmlId: 14, name: "Q6_K", blockSize: QK_K, bytesPerBlock: Q6_K_BLOCK_BYTES,
    dequantizeRow: dequantizeRowQ6_K, quantizeRow: quantizeRowQ6_K, kernels: quantKernels("q6_k"),
  },
  bf16: {
    ggmlId: 30, name: "BF16", blockSize: 1, bytesPerBlock: 2,
    dequantizeRow: dequantizeRowBf16, quantizeRow: quantizeRowBf16, kernels: floatKernels("bf16"),
  },
};

/** Every supported type, in table order. */
export const TENSOR_TYPES = Object.keys(GGML_TYPES) as readonly TensorType[];

/** Names of every ggml type id (ggml.h, enum ggml_type), for error messages; ids 4, 5 and 31..33, 36..38 are retired. */
export const GGML_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
  10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K",
  16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
  24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16",
  34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
};

/** The supported type with this ggml id, undefined for any other id. */
export function tensorTypeFromGgmlId(id: number): TensorType | undefined {
  for (const [type, traits] of Object.entries(GGML_TYPES)) {
    if (traits.ggmlId === id) return type as TensorType;
  }
  return undefined;
}

/** "Q4_K (12)" for a known id, "unknown type 99" otherwise. */
export function describeGgmlTypeId(id: number): string {
  const name = GGML_TYPE_NAMES[id];
  return name === undefined ? `unknown type ${id}` : `${name} (${id})`;
}

/** Bytes of `n` values of `type`; n must be whole blocks. */
export function rowByteSize(type: TensorType, n: number): number {
  const traits = GGML_TYPES[type];
  return (n / traits.blockSize) * traits.bytesPerBlock;
}

/** Bytes of a whole tensor of this shape (ggml order; shape[0] a multiple of the block size). */
export function tensorByteSize(type: TensorType, shape: readonly number[]): number {
  const rows = shape.slice(1).reduce((product, dim) => product * dim, 1);
  return rows * rowByteSize(type, shape[0] ?? 1);
}

/**
 * Dequantizes row `row` of a tensor (shape[0] values; a 1-D tensor has the single row 0) into out[0..shape[0]).
 * Used for token-embedding lookups and norm weights, so it checks its arguments instead of reading garbage.
 */
export function dequantizeTensorRow(tensor: TensorView, row: number, out: Float32Array): void {
  const n = tensor.shape[0] ?? 1;
  const rows = tensor.shape.slice(1).reduce((product, dim) => product * dim, 1);
  if (!Number.isInteger(row) || row < 0 || row >= rows) {
    throw new UsageError(`row ${row} is outside tensor ${tensor.name}, which has ${rows} rows`);
  }
  if (out.length < n) throw new UsageError(`output for a row of ${tensor.name} holds ${out.length} values, needs ${n}`);
  const rowBytes = rowByteSize(tensor.type, n);
  GGML_TYPES[tensor.type].dequantizeRow(tensor.data.subarray(row * rowBytes, (row + 1) * rowBytes), n, out);
}

/** Encodes float values (whole rows, so a multiple of the block size) as `type`. */
export function quantizeValues(type: TensorType, values: Float32Array): Uint8Array {
  const traits = GGML_TYPES[type];
  if (values.length % traits.blockSize !== 0) {
    throw new UsageError(`${values.length} values are not whole ${traits.name} blocks of ${traits.blockSize}`);
  }
  const out = new Uint8Array(rowByteSize(type, values.length));
  traits.quantizeRow(values, out);
  return out;
}

// Float rows: a typed-array view when the bytes are 4- or 2-aligned (the usual case for GGUF data), a DataView otherwise.

function dequantizeRowF32(bytes: Uint8Array, n: number, out: Float32Array): void {
  if (bytes.byteOffset % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 4);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
}

function quantizeRowF32(values: Float32Array, out: Uint8Array): void {
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.length * 4));
}

function dequantizeRowF16(bytes: Uint8Array, n: number, out: Float32Array): void {
  f16ArrayToF32(halfWords(bytes, n), out.length === n ? out : out.subarray(0, n));
}

function quantizeRowF16(values: Float32Array, out: Uint8Array): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const half = f16FromF32Bits(bits[i]!);
    out[2 * i] = half & 0xff;
    out[2 * i + 1] = half >>> 8;
  }
}

function dequantizeRowBf16(bytes: Uint8Array, n: number, out: Float32Array): void {
  // bfloat16 is the top half of a float32: widen by writing the bit pattern
  const bits = new Uint32Array(out.buffer, out.byteOffset, n);
  for (let i = 0; i < n; i++) bits[i] = (bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16;
}

function quantizeRowBf16(values: Float32Array, out: Uint8Array): void {
  for (let i = 0; i < values.length; i++) {
    const b = f32ToBf16(values[i]!);
    out[2 * i] = b & 0xff;
    out[2 * i + 1] = b >>> 8;
  }
}

/** n little-endian 16-bit words as a Uint16Array (a view when aligned, a copy otherwise). */
function halfWords(bytes: Uint8Array, n: number): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  const words = new Uint16Array(n);
  for (let i = 0; i < n; i++) words[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
  return words;
}
