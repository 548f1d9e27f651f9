import type { Architecture } from "./architecture.js";

/**
 * `qwen3`: Qwen 3 (dense). No projection biases; per-head RMSNorm of q and k before the rotary embedding
 * (blk.N.attn_q_norm.weight, blk.N.attn_k_norm.weight, [headDim]); NeoX rope. The head size is its own
 * (`qwen3.attention.key_length`, 128), so nHeads·headDim may differ from the residual width (Qwen3-0.6B: 16 x 128
 * against 1024).
 */
export const QWEN3: Architecture = {
  name: "qwen3",
  models: "Qwen 3",
  ropeStyle: "neox",
  qkvBias: "never",
  qkNorm: true,
  ropeFreqFactors: false,
  defaultRopeTheta: 10000,
  defaultNormEps: 1e-6,
};
