/** Public API of qaq-kv: re-exports only. */
export { Engine } from "./engine/Engine.js";
export { Session, commonPrefixLength, type SessionOptions } from "./engine/Session.js";
export { generate, generateOn, type GeneratedToken, type GenerationStats, type GenerateOptions } from "./generate/generate.js";
export { ChatSession, type ChatOptions, type ChatTurn } from "./chat/ChatSession.js";
export { ChatTemplate, ChatTemplateError, PLAIN_CHAT_TEMPLATE, type ChatMessage, type ChatRole, type RenderOptions } from "./chat/chatTemplate.js";
export { Sampler, argmax, type SamplerConfig } from "./generate/sampler.js";
export { perplexity, encodeParagraphs, negLogSoftmax, type PerplexityResult } from "./eval/perplexity.js";
export type { KVCache, CacheShape, QueryBlock, Rollback, ExactRollback, NoRollback } from "./cache/KVCache.js";
export type { CacheReportView, ReportingCache, CacheBytes, CacheBits, PartBits, WidthMap } from "./cache/CacheReportView.js";
export { parseKvSpec, formatKvSpec, type KVCacheConfig } from "./cache/spec.js";
export { cacheReport, describeCacheReport, formatBytes, type CacheReport } from "./cache/cacheReport.js";
export { loadModelFile, type ModelFile } from "./format/modelFile.js";
export type { ModelConfig } from "./model/config.js";
export type { Tokenizer, TokenizerKind, EncodeOptions, DecodeOptions, TokenTextStream } from "./tokenizer/Tokenizer.js";
export { SentencePieceTokenizer } from "./tokenizer/SentencePieceTokenizer.js";
export { ByteLevelBpeTokenizer } from "./tokenizer/ByteLevelBpeTokenizer.js";
export { tokenizerFromGgufVocabulary, tokenizerFromLlama2cFile } from "./tokenizer/loadTokenizer.js";
export * from "./util/errors.js";
