/** Public API of qaq-kv: re-exports only. */
export { Engine } from "./engine/Engine.js";
export { generate, type GeneratedToken, type GenerationStats } from "./generate/generate.js";
export { Sampler, argmax, type SamplerConfig } from "./generate/sampler.js";
export { perplexity, encodeParagraphs, negLogSoftmax, type PerplexityResult } from "./eval/perplexity.js";
export type { KVCache, CacheBytes, CacheShape, QueryBlock } from "./cache/KVCache.js";
export { parseKvSpec, formatKvSpec, type KVCacheConfig } from "./cache/spec.js";
export { cacheReport, type CacheReport } from "./cache/cacheReport.js";
export { loadModelFile, type ModelFile } from "./format/modelFile.js";
export type { ModelConfig } from "./model/config.js";
export { SentencePieceTokenizer } from "./tokenizer/Tokenizer.js";
export * from "./util/errors.js";
