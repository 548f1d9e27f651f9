import { GGML_TYPES } from "../../format/gguf/ggmlTypes.js";
import { q8KActivationBytes, Q8_K_BLOCK_BYTES } from "../kernelExports.js";

/**
 * References for the K-quant kernels (matvec_q4_k/q5_k/q6_k, matmul_*, interleave_rows_*): each row is decoded with
 * the type's reference dequantization (format/gguf/kQuants.ts, ggml's dequantize_row_*_K arithmetic) and dotted in
 * float64 with the decoded q8_k activations (d·code per super-block). W is given in plain rows; the kernels read the
 * interleaved form of the same bytes (interleaveWholeBlocksRef).
 */
export type KQuantType = "q4_k" | "q5_k" | "q6_k";

/** Row `row` of a plain [rows, cols] matrix of `type`, as float64 values. */
export function decodeKRowRef(type: KQuantType, w: Uint8Array, row: number, cols: number): Float64Array {
  const traits = GGML_TYPES[type];
  const rowBytes = (cols / traits.blockSize) * traits.bytesPerBlock;
  const out = new Float32Array(cols);
  traits.dequantizeRow(w.subarray(row * rowBytes, (row + 1) * rowBytes), cols, out);
  return Float64Array.from(out);
}

/** out[t, r] = Σ_c W[r,c]·x[t,c] for every token of xq ([nTok, q8KActivationBytes(cols)]); out: [nTok, rows]. */
export function matmulKQuantRef(
  type: KQuantType, w: Uint8Array, xq: Uint8Array, out: Float32Array, rows: number, cols: number, nTok: number,
): void {
  const decodedRows = Array.from({ length: rows }, (_, r) => decodeKRowRef(type, w, r, cols));
  for (let t = 0; t < nTok; t++) {
    const x = decodeQ8KActivationsRef(xq, t, cols);
    for (let r = 0; r < rows; r++) {
      const row = decodedRows[r]!;
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += row[c]! * x[c]!;
      out[t * rows + r] = sum;
    }
  }
}

/** One token: out[r] = Σ_c W[r,c]·x[c]. */
export function matvecKQuantRef(type: KQuantType, w: Uint8Array, xq: Uint8Array, out: Float32Array, rows: number, cols: number): void {
  matmulKQuantRef(type, w, xq.subarray(0, q8KActivationBytes(cols)), out, rows, cols, 1);
}

/** Token `token` of q8_k activations (xq: [nTok, q8KActivationBytes(cols)]), as float64 values d·code. */
export function decodeQ8KActivationsRef(xq: Uint8Array, token: number, cols: number): Float64Array {
  const view = new DataView(xq.buffer, xq.byteOffset, xq.byteLength);
  const values = new Float64Array(cols);
  for (let sb = 0; sb < cols / 256; sb++) {
    const at = token * q8KActivationBytes(cols) + sb * Q8_K_BLOCK_BYTES;
    const d = view.getFloat32(at + 272, true);
    for (let i = 0; i < 256; i++) values[sb * 256 + i] = d * view.getInt8(at + i);
  }
  return values;
}

/**
 * The interleaved layout of a K-quant matrix built byte by byte from the plain one: every whole group of 4 rows
 * becomes, super-block by super-block, the 4 rows' blocks one after another; rows after the last whole group are
 * copied as they are.
 */
export function interleaveWholeBlocksRef(plain: Uint8Array, type: KQuantType, rows: number, cols: number): Uint8Array {
  const { blockSize, bytesPerBlock } = GGML_TYPES[type];
  const blocks = cols / blockSize;
  const rowBytes = blocks * bytesPerBlock;
  const out = plain.slice(0, rows * rowBytes);
  for (let g = 0; g < Math.floor(rows / 4); g++) {
    for (let b = 0; b < blocks; b++) {
      for (let k = 0; k < 4; k++) {
        const src = (4 * g + k) * rowBytes + b * bytesPerBlock;
        const dst = 4 * g * rowBytes + (4 * b + k) * bytesPerBlock;
        out.set(plain.subarray(src, src + bytesPerBlock), dst);
      }
    }
  }
  return out;
}
