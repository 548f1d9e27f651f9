import type { Compute } from "../kernels/Compute.js";
import { GGML_TYPES, dequantizeTensorRow } from "../format/gguf/ggmlTypes.js";
import type { TensorType } from "../format/tensor.js";
import { UsageError } from "../util/errors.js";

/**
 * The interleaved layout of quantized weight matrices: every whole group of 4 rows keeps its 4·rowBytes bytes but
 * orders them block by block, so that a 4-row decode pass reads one sequential stream (2.7x the bandwidth of four
 * plain rows for q8_0; kernels/assembly/lib/quantBlocks.ts and kQuantBlocks.ts). Two group layouts, named in each
 * type's traits (GGML_TYPES[type].kernels.interleave.layout):
 *   "scalesFirst" (q8_0, q4_0): per block, the 4 rows' f16 scales, then the 4 rows' codes
 *   "wholeBlocks" (q4_k, q5_k, q6_k): per super-block, the 4 rows' blocks one after another
 * Matrices that the matvec and matmul kernels read are rewritten in place once at load; the bytes stay where they
 * were, so a model file read into the heap still needs no second copy. Rows after the last whole group stay plain.
 * Row lookups (token embeddings of a tied classifier) read either layout.
 */
export type RowLayout = "plain" | "interleaved4";

/** True when the kernels read `type` in the interleaved layout. */
export function isInterleavedType(type: TensorType): boolean {
  return GGML_TYPES[type].kernels.interleave !== null;
}

/**
 * Rewrites `rows` x `cols` weights of `type` at heap address `ptr` from plain rows to the interleaved layout
 * (one wasm pass; a scratch group is allocated and freed here).
 */
export function interleaveInPlace(compute: Compute, type: TensorType, ptr: number, rows: number, cols: number): void {
  const interleave = GGML_TYPES[type].kernels.interleave;
  if (interleave === null) throw new UsageError(`${GGML_TYPES[type].name} weights have no interleaved layout`);
  const groups = Math.floor(rows / 4);
  if (groups === 0) return;
  const traits = GGML_TYPES[type];
  const rowBytes = (cols / traits.blockSize) * traits.bytesPerBlock;
  const scratch = compute.heap.alloc(4 * rowBytes, "interleave scratch"); // [4·rowBytes] bytes: one plain group
  try {
    (compute.kernels[interleave.kernel] as (...a: number[]) => void)(0, groups, ptr, scratch.ptr, cols);
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
  const traits = GGML_TYPES[type];
  const interleave = traits.kernels.interleave;
  if (layout === "plain" || interleave === null || row >= rows - (rows % 4)) {
    dequantizeTensorRow({ name: "weight row", type, shape: [cols, rows], data: bytes }, row, out);
    return;
  }
  const blockBytes = traits.bytesPerBlock;
  const blocks = cols / traits.blockSize;
  const lane = row % 4;
  const group = Math.floor(row / 4) * 4 * blocks * blockBytes;
  const plain = new Uint8Array(blocks * blockBytes); // [blocks] blocks of this row in the plain layout
  for (let b = 0; b < blocks; b++) {
    const at = group + b * 4 * blockBytes;
    if (interleave.layout === "wholeBlocks") {
      plain.set(bytes.subarray(at + lane * blockBytes, at + (lane + 1) * blockBytes), b * blockBytes);
      continue;
    }
    const codeBytes = blockBytes - 2; // 4 f16 scales, then 4 rows' codes
    plain[b * blockBytes] = bytes[at + 2 * lane]!;
    plain[b * blockBytes + 1] = bytes[at + 2 * lane + 1]!;
    plain.set(bytes.subarray(at + 8 + lane * codeBytes, at + 8 + (lane + 1) * codeBytes), b * blockBytes + 2);
  }
  traits.dequantizeRow(plain, cols, out);
}
