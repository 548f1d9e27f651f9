/**
 * The two evaluation protocols (EVAL-PROTOCOL.md) are the two ways a cache is used (cache/cacheUsage.ts):
 *   prompt  the paper's prompt compression: the context is prefilled in full precision and quantized once when the
 *           prefill ends; scoring or generation continues on top;
 *   stream  how a server runs: every token goes into the cache as it is produced.
 * What a config does under each is the cache layer's business (planUsage); what a cache can do afterwards (roll back
 * exactly or not) the cache itself states (KVCache.rollback). Nothing here knows a cache kind.
 * The engine ends every forward call (however it is blocked) with one endForward, so "the prompt" is whatever the
 * first forward call on a fresh cache appended: the scoring loops prefill a whole context in one call.
 */
import type { ReportingCache } from "../../cache/CacheReportView.js";
import { checkUsageAllowed, createCacheForUsage, pinnedUsage, planUsage, type CacheUsage } from "../../cache/cacheUsage.js";
import type { KVCacheConfig } from "../../cache/spec.js";
import type { Engine } from "../../engine/Engine.js";
import { Session } from "../../engine/Session.js";
import { UsageError } from "../../util/errors.js";

export type EvalProtocol = CacheUsage;
export const PROTOCOLS: readonly EvalProtocol[] = ["prompt", "stream"];

export function parseProtocol(text: string): EvalProtocol {
  if (text === "prompt" || text === "stream") return text;
  throw new UsageError(`--protocol must be "prompt" or "stream", got "${text}"`);
}

/** "prompt,stream" -> both; "prompt" -> one. */
export function parseProtocolList(text: string): EvalProtocol[] {
  return [...new Set(text.split(",").map((p) => p.trim()).filter((p) => p !== ""))].map(parseProtocol);
}

/** The protocol a spec text pins, if any (a spec whose mode= names one). */
export function pinnedProtocol(specText: string): EvalProtocol | undefined {
  return pinnedUsage(specText);
}

/** The config a protocol runs (the cache layer's plan). */
export function configForProtocol(config: KVCacheConfig, protocol: EvalProtocol): KVCacheConfig {
  return planUsage(config, protocol).config;
}

/** A spec pinned to one protocol must not be asked to run under the other. */
export function checkProtocolAllowed(specText: string, protocol: EvalProtocol): void {
  checkUsageAllowed(specText, protocol);
}

/**
 * A cache set up for one protocol and the session the scoring loops feed it through. They ask `cache.rollback`
 * whether truncating back to the context is exact; a cache that says "none" gets the context prefilled again for
 * every choice.
 */
export interface EvalCache {
  readonly cache: ReportingCache;
  readonly session: Session;
  dispose(): void;
}

export function createEvalCache(engine: Engine, config: KVCacheConfig, protocol: EvalProtocol): EvalCache {
  const { nLayers, nKvHeads, nHeads, headDim, seqLen } = engine.config;
  const shape = { nLayers, nKvHeads, headDim, maxTokens: seqLen, queryHeadsPerKvHead: nHeads / nKvHeads };
  const cache = createCacheForUsage(engine.compute, shape, config, protocol);
  return { cache, session: new Session(engine, cache), dispose: () => cache.dispose() };
}
