import type { Compute } from "../kernels/Compute.js";
import type { KernelExports } from "../kernels/kernelExports.js";
import { GGML_TYPES, dequantizeTensorRow } from "../format/gguf/ggmlTypes.js";
import { QK } from "../format/gguf/blockQuant.js";
import type { TensorType } from "../format/tensor.js";
import { UsageError } from "../util/errors.js";

/**
 * The interleaved layout of q8_0 / q4_0 weight matrices (kernels/assembly/lib/quantBlocks.ts has the byte layout and
 * why: a 4-row decode pass then reads one stream, 2.7x the bandwidth of four plain rows). Matrices that the matvec
 * and matmul kernels read are rewritten in place once at load; the bytes stay where they were, so a model file read
 * into the heap still needs no second copy. Row lookups (token embeddings of a tied classifier) read either layout.
 */
export type QuantType = "q8_0" | "q4_0";
export type RowLayout = "plain" | "interleaved4";

const INTERLEAVE_KERNELS: { readonly [T in QuantType]: keyof KernelExports } = {
  q8_0: "interleave_rows_q8_0",
  q4_0: "interleave_rows_q4_0",
};

export function isQuantType(type: TensorType): type is QuantType {
  return type === "q8_0" || type === "q4_0";
}

/** Bytes of one block's codes: the block minus its f16 scale. */
function codeBytes(type: QuantType): number {
  return GGML_TYPES[type].bytesPerBlock - 2;
}

/**
 * Rewrites `rows` x `cols` weights of `type` at heap address `ptr` from plain rows to the interleaved layout
 * (one wasm pass; a scratch group is allocated and freed here).
 */
export function interleaveInPlace(compute: Compute, type: QuantType, ptr: number, rows: number, cols: number): void {
  const groups = Math.floor(rows / 4);
  if (groups === 0) return;
  const rowBytes = (cols / QK) * GGML_TYPES[type].bytesPerBlock;
  const scratch = compute.heap.alloc(4 * rowBytes, "interleave scratch"); // [4·rowBytes] bytes: one plain group
  try {
    (compute.kernels[INTERLEAVE_KERNELS[type]] as (...a: number[]) => void)(0, groups, ptr, scratch.ptr, cols);
  } finally {
    compute.heap.free(scratch);
  }
}

/**
 * Row `row` of a weight matrix stored as `bytes` ([rows, cols] in `layout`), dequantized to out[0..cols). Rows of an
 * interleaved whole group are gathered back into one plain row first.
 */
export function dequantizeWeightRow(
  type: TensorType, layout: RowLayout, bytes: Uint8Array, rows: number, cols: number, row: number, out: Float32Array,
): void {
  if (!Number.isInteger(row) || row < 0 || row >= rows) throw new UsageError(`row ${row} is outside a matrix of ${rows} rows`);
  if (layout === "plain" || !isQuantType(type) || row >= rows - (rows % 4)) {
    dequantizeTensorRow({ name: "weight row", type, shape: [cols, rows], data: bytes }, row, out);
    return;
  }
  const blockBytes = GGML_TYPES[type].bytesPerBlock;
  const cb = codeBytes(type);
  const blocks = cols / QK;
  const groupBlockBytes = 8 + 4 * cb; // 4 f16 scales, then 4 rows' codes
  const lane = row % 4;
  const group = Math.floor(row / 4) * 4 * blocks * blockBytes;
  const plain = new Uint8Array(blocks * blockBytes); // [cols/32] blocks of this row in the plain layout
  for (let b = 0; b < blocks; b++) {
    const at = group + b * groupBlockBytes;
    plain[b * blockBytes] = bytes[at + 2 * lane]!;
    plain[b * blockBytes + 1] = bytes[at + 2 * lane + 1]!;
    plain.set(bytes.subarray(at + 8 + lane * cb, at + 8 + (lane + 1) * cb), b * blockBytes + 2);
  }
  GGML_TYPES[type].dequantizeRow(plain, cols, out);
}
