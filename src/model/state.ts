import type { Compute } from "../kernels/Compute.js";
import type { Region } from "../kernels/WasmHeap.js";
import { q8_0ActivationBytes, Q8_K_BLOCK_BYTES } from "../kernels/kernelExports.js";
import { queryDim, type ModelConfig } from "./config.js";
import type { ArchitectureOptions } from "./architectures/architecture.js";

/**
 * Scratch activations for one forward block of up to `maxBlock` tokens, allocated once in the wasm heap and reused
 * by every forward pass (nothing is allocated per token). B = maxBlock, R = nHeads / nKvHeads,
 * qDim = nHeads·headDim (= dim except where the architecture sets its own head size, as Qwen 3 does).
 */
export interface ForwardState {
  readonly maxBlock: number;
  /** [B, dim] residual stream */
  readonly x: Region;
  /** [B, dim] normed input / projection output */
  readonly xb: Region;
  /** [B, qDim] attention output (all heads) */
  readonly att: Region;
  /** [B, qDim] queries */
  readonly q: Region;
  /** [B, kvDim] keys */
  readonly k: Region;
  /** [B, kvDim] values */
  readonly v: Region;
  /** [B, hidden] gate, then silu(gate)·up */
  readonly hb: Region;
  /** [B, hidden] up */
  readonly hb2: Region;
  /** [B, q8_0ActivationBytes(max(dim, qDim, hidden))] int8 activations for q8_0/q4_0 weights */
  readonly xq0: Region;
  /** [B, q8KActivationBytes(the same, rounded up to 256)] int8 activations for K-quant weights */
  readonly xqK: Region;
  /** [B*R, headDim] the queries of one KV head (token-major) */
  readonly qHead: Region;
  /** [B*R, headDim] attention output of one KV head */
  readonly outHead: Region;
  /** [B*R, positions] logits/probabilities of one KV head */
  scores: Region;
  /** [B, vocab] output logits */
  readonly logits: Region;
  /** [positions, headDim/2, 2] RoPE cos/sin table */
  cosSin: Region;
  /** positions the RoPE table and the scores scratch cover: grown by reservePositions, at most seqLen */
  positions: number;
}

/**
 * Positions the RoPE table and the scores scratch are sized for at first; they grow (doubling) as positions are
 * used, up to the context. A file's declared context length then costs nothing until a prompt reaches it: a 1 MB
 * GGUF declaring 2^22 positions does not make a 2 GiB table (head size 128) before its first token.
 */
export const INITIAL_POSITIONS = 4096;

/** Scores scratch is B*R*seqLen floats; B shrinks for long contexts to keep it near this size. */
const SCORES_BUDGET_BYTES = 64 << 20;
const MAX_BLOCK = 64;

export function blockSizeFor(config: ModelConfig): number {
  const rep = config.nHeads / config.nKvHeads;
  // sized for the whole context (not the positions in use), so the block size never changes during a run
  const fit = Math.floor(SCORES_BUDGET_BYTES / (rep * config.seqLen * 4));
  return Math.max(1, Math.min(MAX_BLOCK, fit));
}

/** `initialPositions`: what the RoPE table and the scores first cover (tests make it small to exercise growth). */
export function createForwardState(compute: Compute, config: ModelConfig, initialPositions = INITIAL_POSITIONS): ForwardState {
  const heap = compute.heap;
  const B = blockSizeFor(config);
  const { dim, hiddenDim, headDim, nHeads, nKvHeads, seqLen, vocabSize } = config;
  const rep = nHeads / nKvHeads;
  const qDim = queryDim(config);
  const f32 = (n: number, what: string) => heap.alloc(n * 4, `forward scratch ${what}`);
  const positions = Math.max(1, Math.min(seqLen, initialPositions));
  const cosSin = f32(positions * headDim, "rope table");
  fillRopeTable(heap.f32(cosSin), positions, headDim, config.ropeTheta, config.arch);
  return {
    maxBlock: B,
    x: f32(B * dim, "x"),
    xb: f32(B * dim, "xb"),
    att: f32(B * qDim, "att"),
    q: f32(B * qDim, "q"),
    k: f32(B * nKvHeads * headDim, "k"),
    v: f32(B * nKvHeads * headDim, "v"),
    hb: f32(B * hiddenDim, "hb"),
    hb2: f32(B * hiddenDim, "hb2"),
    xq0: heap.alloc(B * q8_0ActivationBytes(Math.max(dim, qDim, hiddenDim)), "forward scratch xq0"),
    xqK: heap.alloc(B * Math.ceil(Math.max(dim, qDim, hiddenDim) / 256) * Q8_K_BLOCK_BYTES, "forward scratch xqK"),
    qHead: f32(B * rep * headDim, "qHead"),
    outHead: f32(B * rep * headDim, "outHead"),
    scores: f32(B * rep * positions, "scores"),
    logits: f32(B * vocabSize, "logits"),
    cosSin,
    positions,
  };
}

/**
 * Makes the RoPE table and the scores scratch cover positions 0..`needed`-1 (needed <= seqLen), doubling their
 * capacity; the table's new rows are filled, the old ones copied.
 */
export function reservePositions(compute: Compute, config: ModelConfig, state: ForwardState, needed: number): void {
  if (needed <= state.positions) return;
  const heap = compute.heap;
  const { headDim, nHeads, nKvHeads, seqLen } = config;
  const positions = Math.min(seqLen, Math.max(needed, 2 * state.positions));
  const cosSin = heap.alloc(positions * headDim * 4, "forward scratch rope table");
  const scores = heap.alloc(state.maxBlock * (nHeads / nKvHeads) * positions * 4, "forward scratch scores");
  const table = heap.f32(cosSin);
  table.set(heap.f32(state.cosSin));
  fillRopeTable(table, positions, headDim, config.ropeTheta, config.arch, state.positions);
  heap.free(state.cosSin);
  heap.free(state.scores);
  state.cosSin = cosSin;
  state.scores = scores;
  state.positions = positions;
}

/**
 * RoPE table for both pairings (interleaved and NeoX read pair i from the same entry): pair i of a head rotates by
 *   angle = (s·pos)·θ^(-2i/headDim) / f_i
 * with s the linear position scale and f_i the rope_freqs factor (both 1 unless the file sets them; llama.cpp's
 * ggml_rope_ext computes the same). Computed in float64 and stored as f32 [pos, i, (cos, sin)], for positions
 * `firstPos`..seqLen-1 (the rows before are left as they are).
 */
export function fillRopeTable(
  table: Float32Array,
  seqLen: number,
  headDim: number,
  theta: number,
  scaling: Pick<ArchitectureOptions, "ropePositionScale" | "ropeFreqFactors"> = { ropePositionScale: 1, ropeFreqFactors: undefined },
  firstPos = 0,
): void {
  const half = headDim / 2;
  const { ropePositionScale, ropeFreqFactors } = scaling;
  for (let pos = firstPos; pos < seqLen; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = (ropePositionScale * pos * Math.pow(theta, (-2 * i) / headDim)) / (ropeFreqFactors?.[i] ?? 1);
      table[(pos * half + i) * 2] = Math.cos(angle);
      table[(pos * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
}

export function freeForwardState(compute: Compute, state: ForwardState): void {
  for (const value of Object.values(state)) if (typeof value === "object") compute.heap.free(value as Region);
}
