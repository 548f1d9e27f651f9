import { FileFormatError } from "../util/errors.js";

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
  /** Per-head width (dim / nHeads for every model supported here). */
  readonly headDim: number;
  readonly vocabSize: number;
  /** Maximum context length in tokens. */
  readonly seqLen: number;
  /** RoPE base frequency. */
  readonly ropeTheta: number;
  /** RMSNorm epsilon. */
  readonly normEps: number;
}

/** Checks the relations the forward pass relies on; `file` names the source in the error. */
export function validateModelConfig(config: ModelConfig, file: string): ModelConfig {
  const positive: (keyof ModelConfig)[] = ["dim", "hiddenDim", "nLayers", "nHeads", "nKvHeads", "headDim", "vocabSize", "seqLen"];
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value <= 0 || value > 1 << 24) {
      throw new FileFormatError(file, `model parameter ${key} = ${value} is not a positive integer in range`);
    }
  }
  if (config.nHeads % config.nKvHeads !== 0) {
    throw new FileFormatError(file, `n_heads ${config.nHeads} is not a multiple of n_kv_heads ${config.nKvHeads}`);
  }
  if (config.headDim * config.nHeads !== config.dim) {
    throw new FileFormatError(file, `head size ${config.headDim} x ${config.nHeads} heads != dim ${config.dim}`);
  }
  if (config.headDim % 2 !== 0) {
    throw new FileFormatError(file, `head size ${config.headDim} is odd; rotary embeddings need pairs`);
  }
  if (!(config.ropeTheta > 0) || !(config.normEps > 0)) {
    throw new FileFormatError(file, `rope theta ${config.ropeTheta} and norm epsilon ${config.normEps} must be > 0`);
  }
  return config;
}
