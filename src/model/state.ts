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
  /** [B*R, seqLen] logits/probabilities of one KV head */
  readonly scores: Region;
  /** [B, vocab] output logits */
  readonly logits: Region;
  /** [seqLen, headDim/2, 2] RoPE cos/sin table */
  readonly cosSin: Region;
}

/** Scores scratch is B*R*seqLen floats; B shrinks for long contexts to keep it near this size. */
const SCORES_BUDGET_BYTES = 64 << 20;
const MAX_BLOCK = 64;

export function blockSizeFor(config: ModelConfig): number {
  const rep = config.nHeads / config.nKvHeads;
  const fit = Math.floor(SCORES_BUDGET_BYTES / (rep * config.seqLen * 4));
  return Math.max(1, Math.min(MAX_BLOCK, fit));
}

export function createForwardState(compute: Compute, config: ModelConfig): ForwardState {
  const heap = compute.heap;
  const B = blockSizeFor(config);
  const { dim, hiddenDim, headDim, nHeads, nKvHeads, seqLen, vocabSize } = config;
  const rep = nHeads / nKvHeads;
  const qDim = queryDim(config);
  const f32 = (n: number, what: string) => heap.alloc(n * 4, `forward scratch ${what}`);
  const cosSin = f32(seqLen * headDim, "rope table");
  fillRopeTable(heap.f32(cosSin), seqLen, headDim, config.ropeTheta, config.arch);
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
    scores: f32(B * rep * seqLen, "scores"),
    logits: f32(B * vocabSize, "logits"),
    cosSin,
  };
}

/**
 * RoPE table for both pairings (interleaved and NeoX read pair i from the same entry): pair i of a head rotates by
 *   angle = (s·pos)·θ^(-2i/headDim) / f_i
 * with s the linear position scale and f_i the rope_freqs factor (both 1 unless the file sets them; llama.cpp's
 * ggml_rope_ext computes the same). Computed in float64 and stored as f32 [pos, i, (cos, sin)].
 */
export function fillRopeTable(
  table: Float32Array,
  seqLen: number,
  headDim: number,
  theta: number,
  scaling: Pick<ArchitectureOptions, "ropePositionScale" | "ropeFreqFactors"> = { ropePositionScale: 1, ropeFreqFactors: undefined },
): void {
  const half = headDim / 2;
  const { ropePositionScale, ropeFreqFactors } = scaling;
  for (let pos = 0; pos < seqLen; pos++) {
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
