/**
 * Exports of kernels.wasm that compute attention directly on packed (quantized) KV storage; the contract between the
 * cache code (src/cache) and the kernels (src/kernels/assembly/packedAttention.ts, kiviAttention.ts,
 * blockqAttention.ts; references in src/kernels/reference/*Ref.ts). Every pointer is a byte offset into the shared
 * heap; D = head dimension, T = tokens (the row length of scores and weights), nq = query rows sharing one KV head.
 *
 * Query and output buffers, for every kernel below:
 *   q    [nq, D] f32     query rows (scores kernels)
 *   p    [nq, T] f32     attention weights (mix kernels)
 *   out  [nq, T] f32     scores: out[i·T + t]           (mix: [nq, D] f32, out[i·D + d])
 * A scores call writes exactly the entries of its rows (tokens or blocks); while it runs it uses the output slots of
 * its own last few tokens (at most D + 8 + 3·ceil4(nq) per query row, KIVI: whole blocks) as scratch for int16 copies
 * of the query, which it then overwrites with their scores. A mix call overwrites out[i·D + d] for its dimensions d.
 */
export interface PackedAttentionExports {
  /**
   * Section 1, generic per-group packed codes (uniform, QAQ). A SEQUENCE holds one group per token: the keys or
   * values of one layer for one KV head (G = D values, "group=head", elemOffset = 0) or for the whole layer (G = nKv·D
   * values, "group=layer", elemOffset = head·D). Group m = token t. Metadata, indexed by m:
   *   blocks u32 [ceil(T/256)]  heap pointer of block j's region (groups 256j .. 256j+255; 0 for a block of no bytes)
   *   bits   u8  [ceil(T/2)]    code width, 4 bits per group, low nibble first: 0..8, or 15 = empty
   *   scale  u16 [T]  f16 grid step                           zero  u16 [T]  f16 grid origin
   * A block's region holds its groups' slots back to back, so group m's slot starts at blocks[m >> 8] plus the
   * slot sizes of the block's groups before it (no per-group pointer). Slot of width b:
   *   [codes: ceil(G·b/8) bytes, LSB-first stream as in src/quant/bitpack.ts][values: nOut × f16, the exact values]
   *   [positions: nOut × u8 (u16 when G > 256), index within the group]      (width 15: no bytes at all)
   * x^ = zero + (c + 0.5)·scale in f32 (src/quant/uniform.ts); at an outlier position x^ is the stored value instead.
   * b = 0 stores no code bytes (x^ = zero + 0.5·scale); an empty group (width 15, scale = zero = 0) reads as 0, which
   * is how tokens held in fp16 elsewhere take part in a call over all tokens. nOut is the same for every group.
   * The head's D values are elements [elemOffset, elemOffset + D) of its group; outliers outside are ignored.
   *
   * rows = tokens t in [begin, end): out[i·T + t] = Σ_d q[i·D + d]·x^_{t,d}.
   * Fast (int16 dot) path when D and elemOffset are multiples of 8, D ≤ 256; exact f32 or scalar paths otherwise.
   * Error against the f64 reference: ≤ 1e-4·Σ_d |q_d·x^_d| (int16 query rounding, see packedAttention.ts).
   */
  attn_scores_packed(
    begin: number, end: number, q: number, out: number, nq: number, D: number, T: number, blocks: number, bits: number,
    scale: number, zero: number, elemOffset: number, groupLen: number, nOut: number,
  ): void;
  /**
   * Same storage; rows = head dimensions d in [begin, end) (split with grain 16):
   * out[i·D + d] = Σ_t p[i·T + t]·x^_{t,d} (overwrites out for its dimensions); the coded part runs on p·scale
   * rounded to int16 per chunk of 256 tokens (error per output ≤ Σ_t s_chunk/2·c_{t,d}, s_chunk = max|p·scale|/32767).
   * scratch: mix_scratch_bytes(nq, D) bytes, for this call alone.
   */
  attn_mix_packed(
    begin: number, end: number, p: number, scratch: number, out: number, nq: number, D: number, T: number,
    blocks: number, bits: number, scale: number, zero: number, elemOffset: number, groupLen: number, nOut: number,
  ): void;

  /**
   * Section 2, KIVI keys: per-channel quantization in blocks of 32 tokens of one (layer, KV head). Block:
   *   [codes: 32 tokens × ceil(D·bits/8) bytes, token-major, each token's D codes an LSB-first stream]
   *   [scale: D × u16 f16, per channel][zero: D × u16 f16, per channel]
   *   x^_{r,d} = zero_d + (c_{r,d} + 0.5)·scale_d
   * blockPtrs: u32 [blocks]. rows = blocks j in [begin, end):
   *   out[i·T + tokenOffset + 32·j + r] = Σ_d q[i·D + d]·x^_{r,d} for r in 0..31.
   * Fast path when D is a multiple of 8 and D ≤ 512; error ≤ S/2·Σ_d |c_d - mid| with S = max_d |q_d·scale_d|/32767.
   */
  attn_scores_kivi(
    begin: number, end: number, q: number, out: number, nq: number, D: number, T: number, blockPtrs: number,
    bits: number, tokenOffset: number,
  ): void;

  /**
   * Section 3, blockq: llama.cpp-like blocks of 32 values along a token's nKv·D vector (nKv·D a multiple of 32).
   * Token t's row, at base + t·rowBytes, holds nKv·D/32 blocks:
   *   q8_0 block, 34 bytes: f16 d, 32 × i8 q                                   x^ = d·q
   *   q4_0 block, 18 bytes: f16 d, 16 bytes (byte j: element j in the low nibble, element j+16 in the high)
   *                                                                           x^ = d·(nibble - 8)
   * The head's values are row elements [elemOffset, elemOffset + D) (elemOffset = head·D; may start inside a
   * block when D < 32). Scores: rows = tokens, out[i·T + t] = Σ_d q[i·D + d]·x^_{t,d}; fast path when D and
   * elemOffset are multiples of 8 (error ≤ 1e-4·Σ|q·x^|, int16 query rounding).
   */
  attn_scores_blockq_q8_0(
    begin: number, end: number, q: number, out: number, nq: number, D: number, T: number, base: number,
    rowBytes: number, elemOffset: number,
  ): void;
  attn_scores_blockq_q4_0(
    begin: number, end: number, q: number, out: number, nq: number, D: number, T: number, base: number,
    rowBytes: number, elemOffset: number,
  ): void;
  /**
   * Mix on blockq rows (blockqMix.ts); rows = head dimensions d in [begin, end): out[i·D + d] = Σ_t p[i·T + t]·x^_{t,d}
   * (f32), on int16 p·d per chunk of 256 tokens: error per output ≤ Σ_t s_chunk/2·|code_{t,d}| with
   * s_chunk = max_{t in chunk}|p·d|/32767. scratch: mix_scratch_bytes(nq, D) bytes, for this call alone.
   */
  attn_mix_blockq_q8_0(
    begin: number, end: number, p: number, scratch: number, out: number, nq: number, D: number, T: number,
    base: number, rowBytes: number, elemOffset: number,
  ): void;
  attn_mix_blockq_q4_0(
    begin: number, end: number, p: number, scratch: number, out: number, nq: number, D: number, T: number,
    base: number, rowBytes: number, elemOffset: number,
  ): void;
  mix_scratch_bytes(nq: number, D: number): number;

  /**
   * QAQ's attention window: rows = tokens t in [begin, end): out[t] = the one-byte code (AttentionWindow.ts) of
   * max_rep probs[rep·T + t]; probs: [nRep, T] f32, out: [T] u8.
   */
  attn_window_codes(begin: number, end: number, probs: number, out: number, nRep: number, T: number): void;
}
