import type { Architecture, ArchitectureOptions } from "./architecture.js";

/**
 * `llama`: Llama 2 and 3.x, Mistral, SmolLM2, TinyLlama, llama2.c checkpoints (mapped onto GGUF names).
 * Interleaved rope (llama.cpp's converter permutes the Hugging Face q/k rows so that pairs are neighbours).
 * Llama 3.1+ files carry rope_freqs.weight (the "llama3" scaling of low frequencies, baked in by the converter).
 * q/k/v biases are used when a file has them, as llama.cpp does; no q/k norm.
 */
export const LLAMA: Architecture = {
  name: "llama",
  models: "Llama 2, Llama 3.x, Mistral, SmolLM2, TinyLlama",
  ropeStyle: "interleaved",
  qkvBias: "if-present",
  qkNorm: false,
  ropeFreqFactors: true,
  defaultRopeTheta: 10000,
  defaultNormEps: 1e-5,
};

/** The options of a plain llama model (llama2.c checkpoints, synthetic models): no biases, no rope scaling. */
export const PLAIN_LLAMA: ArchitectureOptions = {
  name: "llama",
  ropeStyle: "interleaved",
  qkvBias: false,
  qkNorm: false,
  ropePositionScale: 1,
  ropeFreqFactors: undefined,
};
