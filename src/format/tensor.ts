/**
 * Tensors as read from a model file: a name, a ggml type, a shape and a view of the stored bytes.
 * Shapes are in ggml order: shape[0] is the fastest-varying (contiguous) dimension, so a weight matrix
 * with `rows` outputs of `cols` inputs has shape [cols, rows].
 */
export type TensorType = "f32" | "f16" | "bf16" | "q8_0" | "q4_0" | "q4_k" | "q5_k" | "q6_k";

export interface TensorView {
  readonly name: string;
  readonly type: TensorType;
  /** ggml order, fastest dimension first. */
  readonly shape: readonly number[];
  /** The stored bytes, exactly as in the file (a view, not a copy). */
  readonly data: Uint8Array;
}

/**
 * The tensor names this engine uses (llama.cpp's); llama2.c checkpoints are mapped onto them. Which of the optional
 * ones a model has is its architecture's business (model/architectures/).
 */
export const TENSOR_NAMES = {
  tokenEmbedding: "token_embd.weight",
  outputNorm: "output_norm.weight",
  output: "output.weight",
  attnNorm: (layer: number) => `blk.${layer}.attn_norm.weight`,
  wq: (layer: number) => `blk.${layer}.attn_q.weight`,
  wk: (layer: number) => `blk.${layer}.attn_k.weight`,
  wv: (layer: number) => `blk.${layer}.attn_v.weight`,
  wo: (layer: number) => `blk.${layer}.attn_output.weight`,
  ffnNorm: (layer: number) => `blk.${layer}.ffn_norm.weight`,
  /** gate (w1 in llama2.c) */
  ffnGate: (layer: number) => `blk.${layer}.ffn_gate.weight`,
  /** down (w2 in llama2.c) */
  ffnDown: (layer: number) => `blk.${layer}.ffn_down.weight`,
  /** up (w3 in llama2.c) */
  ffnUp: (layer: number) => `blk.${layer}.ffn_up.weight`,
  /** q/k/v projection biases (qwen2; optional in llama) */
  qBias: (layer: number) => `blk.${layer}.attn_q.bias`,
  kBias: (layer: number) => `blk.${layer}.attn_k.bias`,
  vBias: (layer: number) => `blk.${layer}.attn_v.bias`,
  /** per-head q/k RMSNorm weights (qwen3) */
  qNorm: (layer: number) => `blk.${layer}.attn_q_norm.weight`,
  kNorm: (layer: number) => `blk.${layer}.attn_k_norm.weight`,
  /** per rotary pair frequency divisors (Llama 3.1+) */
  ropeFreqs: "rope_freqs.weight",
} as const;
