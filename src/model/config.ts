import { FileFormatError } from "../util/errors.js";
import type { ArchitectureOptions } from "./architectures/architecture.js";

/** The hyper-parameters of a LLaMA-family model, validated once when the model file is read. */
export interface ModelConfig {
  /** Width of the residual stream. */
  readonly dim: number;
  /** Width of the SwiGLU hidden layer. */
  readonly hiddenDim: number;
  readonly nLayers: number;
  /** Query heads. */
  readonly nHeads: number;
  /** Key/value heads (grouped-query attention: nHeads is a multiple of nKvHeads). */
  readonly nKvHeads: number;
  /** Per-head width of queries, keys and values (dim / nHeads unless the file says otherwise, as Qwen 3 does). */
  readonly headDim: number;
  readonly vocabSize: number;
  /** Maximum context length in tokens. */
  readonly seqLen: number;
  /** RoPE base frequency. */
  readonly ropeTheta: number;
  /** RMSNorm epsilon. */
  readonly normEps: number;
  /** What the architecture adds to the LLaMA block (architectures/*.ts); the forward pass reads only these. */
  readonly arch: ArchitectureOptions;
}

/** Width of all query heads together: the rows of attn_q and the columns of attn_output. */
export function queryDim(config: ModelConfig): number {
  return config.nHeads * config.headDim;
}

/** Checks the relations the forward pass relies on; `file` names the source in the error. */
export function validateModelConfig(config: ModelConfig, file: string): ModelConfig {
  const positive = ["dim", "hiddenDim", "nLayers", "nHeads", "nKvHeads", "headDim", "vocabSize", "seqLen"] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value <= 0 || value > 1 << 24) {
      throw new FileFormatError(file, `model parameter ${key} = ${value} is not a positive integer in range`);
    }
  }
  if (config.nHeads % config.nKvHeads !== 0) {
    throw new FileFormatError(file, `n_heads ${config.nHeads} is not a multiple of n_kv_heads ${config.nKvHeads}`);
  }
  if (config.headDim % 2 !== 0) {
    throw new FileFormatError(file, `head size ${config.headDim} is odd; rotary embeddings need pairs`);
  }
  if (!(config.ropeTheta > 0) || !(config.normEps > 0)) {
    throw new FileFormatError(file, `rope theta ${config.ropeTheta} and norm epsilon ${config.normEps} must be > 0`);
  }
  const { ropePositionScale, ropeFreqFactors } = config.arch;
  if (!(ropePositionScale > 0 && ropePositionScale <= 1)) {
    throw new FileFormatError(file, `rope position scale ${ropePositionScale} is not in (0, 1] (a linear scaling factor >= 1)`);
  }
  if (ropeFreqFactors !== undefined) {
    if (ropeFreqFactors.length !== config.headDim / 2) {
      throw new FileFormatError(file, `rope_freqs has ${ropeFreqFactors.length} factors for ${config.headDim / 2} rotary pairs`);
    }
    const bad = ropeFreqFactors.findIndex((f) => !(f > 0 && Number.isFinite(f)));
    if (bad >= 0) throw new FileFormatError(file, `rope_freqs factor ${bad} = ${ropeFreqFactors[bad]} is not a positive number`);
  }
  return config;
}
