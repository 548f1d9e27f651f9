import type { Architecture } from "./architecture.js";

/**
 * `qwen2`: Qwen 2 and Qwen 2.5 (also what most of their fine-tunes ship as). Always has biases on the q, k and v
 * projections (blk.N.attn_{q,k,v}.bias), NeoX rope (θ usually 1e6), often a tied classifier in the small sizes.
 */
export const QWEN2: Architecture = {
  name: "qwen2",
  models: "Qwen 2, Qwen 2.5",
  ropeStyle: "neox",
  qkvBias: "always",
  qkNorm: false,
  ropeFreqFactors: false,
  defaultRopeTheta: 10000,
  defaultNormEps: 1e-6,
};
