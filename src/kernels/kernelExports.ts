/**
 * The functions kernels.wasm exports. Every argument named like a buffer is a byte offset (pointer) into the shared
 * heap. Row kernels take (begin, end) first: the half-open range of rows this call computes, so the thread pool can
 * split one call across threads (see ThreadPool); calling with (0, rows) computes everything on one thread.
 *
 * Layouts (ggml order for weights: a matrix of `rows` outputs x `cols` inputs is stored row-major, row r at r*rowBytes):
 *   f32/f16/bf16 weights: rows x cols elements.
 *   q8_0 weights: rows x (cols/32) blocks of 34 bytes (f16 scale d, 32 x int8), value = d*q.
 *   q4_0 weights: rows x (cols/32) blocks of 18 bytes (f16 scale d, 16 bytes: byte j = element j (low nibble) and
 *     element j+16 (high nibble)), value = d*(nibble-8).
 *   q8_0/q4_0 matrices are read by the matvec/matmul kernels in the interleaved layout (whole groups of 4 rows
 *     stored block by block: 4 f16 scales, then the 4 rows' codes; rows after the last whole group stay plain;
 *     assembly/lib/quantBlocks.ts), produced in place from the plain layout by interleave_rows_q8_0/q4_0.
 *   q4_k/q5_k/q6_k weights: rows x (cols/256) super-blocks of 144/176/210 bytes (format/gguf/kQuants.ts); the kernels
 *     read them with whole groups of 4 rows interleaved super-block by super-block (the 4 rows' blocks one after
 *     another; assembly/lib/kQuantBlocks.ts), produced in place by interleave_rows_q4_k/q5_k/q6_k.
 *   Quantized weights multiply int8 activations quantized as llama.cpp's CPU backend does (assembly/quantAct.ts):
 *   q8_0 activations (input of q8_0/q4_0 weights; q8_0ActivationBytes): per token `cols` int8 codes, then cols/32
 *     f32 scales (one per block of 32, f16-rounded values), value = scale*code; produced by quantize_act_q8_0.
 *   q8_k activations (input of q4_k/q5_k/q6_k; q8KActivationBytes): per token, per super-block of 256 values, 288
 *     bytes: 256 int8 codes, 8 i16 sums of 32 codes (the K-quants' mins multiply them), f32 d, 12 zero bytes;
 *     value = d*code; produced by quantize_act_q8_k.
 */
import type { PackedAttentionExports } from "./packedKernelExports.js";

export interface KernelExports extends PackedAttentionExports {
  /** out[r] = Σ_c W[r,c]·x[c] for r in [begin,end); x: [cols] f32, out: [rows] f32 */
  matvec_f32(begin: number, end: number, w: number, x: number, out: number, cols: number): void;
  matvec_f16(begin: number, end: number, w: number, x: number, out: number, cols: number): void;
  matvec_bf16(begin: number, end: number, w: number, x: number, out: number, cols: number): void;
  /** w: interleaved [rows, cols/32] blocks; xq: q8_0 activations of one token */
  matvec_q8_0(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number): void;
  matvec_q4_0(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number): void;
  /** rows = groups of 4 weight rows: plain -> interleaved layout in place; scratch: [4·rowBytes] bytes per call */
  interleave_rows_q8_0(begin: number, end: number, w: number, scratch: number, cols: number): void;
  interleave_rows_q4_0(begin: number, end: number, w: number, scratch: number, cols: number): void;
  /** K-quants: w interleaved super-block by super-block; xq: q8_k activations of one token (cols % 256 == 0) */
  matvec_q4_k(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number): void;
  matvec_q5_k(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number): void;
  matvec_q6_k(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number): void;
  interleave_rows_q4_k(begin: number, end: number, w: number, scratch: number, cols: number): void;
  interleave_rows_q5_k(begin: number, end: number, w: number, scratch: number, cols: number): void;
  interleave_rows_q6_k(begin: number, end: number, w: number, scratch: number, cols: number): void;
  /** rows = tokens: x [nTok, cols] f32 -> xq [nTok, q8_0ActivationBytes(cols)] (cols % 32 == 0) */
  quantize_act_q8_0(begin: number, end: number, x: number, xq: number, cols: number): void;
  /** rows = tokens: x [nTok, cols] f32 -> xq [nTok, q8KActivationBytes(cols)] (cols % 256 == 0) */
  quantize_act_q8_k(begin: number, end: number, x: number, xq: number, cols: number): void;

  /** Batched (prefill): out[t, r] = Σ_c W[r,c]·x[t,c], out: [nTok, rows]; weight rows [begin,end) */
  matmul_f32(begin: number, end: number, w: number, x: number, out: number, cols: number, rows: number, nTok: number): void;
  matmul_f16(begin: number, end: number, w: number, x: number, out: number, cols: number, rows: number, nTok: number): void;
  matmul_bf16(begin: number, end: number, w: number, x: number, out: number, cols: number, rows: number, nTok: number): void;
  /** w: interleaved [rows, cols/32] blocks; xq: [nTok, q8_0ActivationBytes(cols)]; K-quants: [nTok, q8KActivationBytes(cols)] */
  matmul_q8_0(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number, nTok: number): void;
  matmul_q4_0(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number, nTok: number): void;
  matmul_q4_k(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number, nTok: number): void;
  matmul_q5_k(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number, nTok: number): void;
  matmul_q6_k(begin: number, end: number, w: number, xq: number, out: number, cols: number, rows: number, nTok: number): void;

  /** rows = tokens: out[t] = x[t] / sqrt(mean(x[t]²) + eps) ⊙ weight; x, out: [nTok, dim] (may alias) */
  rmsnorm(begin: number, end: number, x: number, weight: number, out: number, dim: number, eps: number): void;
  /**
   * rows = tokens: rotates interleaved pairs (x[2i], x[2i+1]) of every head of token t at position pos0+t;
   * x: [nTok, nHeads*headDim]; cosSin: [seqLen, headDim/2, 2] f32 (cos, sin of pos·theta^(-2i/headDim))
   */
  rope(begin: number, end: number, x: number, cosSin: number, pos0: number, nHeads: number, headDim: number): void;
  /**
   * rows = tokens: the NeoX layout of `rope` (Qwen): pair i of each head is (x[i], x[i + headDim/2]), rotated by the
   * angle of table pair i; x and cosSin as for `rope`
   */
  rope_neox(begin: number, end: number, x: number, cosSin: number, pos0: number, nHeads: number, headDim: number): void;
  /** rows: softmax of each row of x [rows, cols] in place; -Infinity entries become exactly 0 */
  softmax(begin: number, end: number, x: number, cols: number): void;
  /** elements: gate[i] = silu(gate[i]) * up[i] */
  swiglu(begin: number, end: number, gate: number, up: number): void;
  /** elements: x[i] += y[i] */
  add(begin: number, end: number, x: number, y: number): void;
  /** rows = tokens: x[t, i] += bias[i]; x: [nTok, cols] f32, bias: [cols] f32 */
  add_bias(begin: number, end: number, x: number, bias: number, cols: number): void;

  /**
   * rows = cached tokens t in [begin,end): out[i*T + t] = q_i·k_t for the nq query rows q [nq, headDim] f32;
   * key t starts at element t*kStride of k (f32 or f16 elements).
   */
  attn_scores_f32(begin: number, end: number, q: number, k: number, out: number, nq: number, headDim: number, kStride: number, T: number): void;
  attn_scores_f16(begin: number, end: number, q: number, k: number, out: number, nq: number, headDim: number, kStride: number, T: number): void;
  /**
   * rows = head dimensions d in [begin,end): out[i*headDim + d] = Σ_t p[i*T + t]·v_t[d]; p: [nq, T] f32;
   * value t starts at element t*vStride of v.
   */
  attn_mix_f32(begin: number, end: number, p: number, v: number, out: number, nq: number, headDim: number, vStride: number, T: number): void;
  attn_mix_f16(begin: number, end: number, p: number, v: number, out: number, nq: number, headDim: number, vStride: number, T: number): void;

  /**
   * rows r in [begin,end) of x [rows, headDim] f32, in place: the randomized Walsh-Hadamard rotation of rotated KV
   * caches (assembly/hadamard.ts), forward y = H·diag(s)·x/sqrt(D) or (inverse != 0) its transpose; row r uses the
   * sign flips s of (layer, KV head headBase + r % headCount) drawn from `seed`. headDim: a power of two.
   */
  hadamard_rows(begin: number, end: number, x: number, headDim: number, seed: number, layer: number, headBase: number, headCount: number, inverse: number): void;

  /** bytes [begin,end): dst[i] = src[i] (memory-bandwidth probe for benchmarks) */
  copy_bytes(begin: number, end: number, src: number, dst: number): void;
  /** bytes [begin,end): read src, xor into out at (begin >> 16)·16 (read-only bandwidth probe; grain 65536) */
  read_bytes(begin: number, end: number, src: number, out: number): void;
}

/** Bytes of one token's q8_0 activations: `cols` int8 codes, then cols/32 f32 scales. */
export function q8_0ActivationBytes(cols: number): number {
  return cols + (cols / 32) * 4;
}

/** Bytes of one super-block (256 values) of q8_k activations: codes, 8 i16 sums, f32 d, padding to 16 bytes. */
export const Q8_K_BLOCK_BYTES = 288;

/** Bytes of one token's q8_k activations (cols % 256 == 0). */
export function q8KActivationBytes(cols: number): number {
  return (cols / 256) * Q8_K_BLOCK_BYTES;
}
