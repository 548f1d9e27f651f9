/**
 * The two ways a cache is used (EVAL-PROTOCOL.md):
 *   prompt  the paper's prompt compression: the context is prefilled in full precision and quantized once when the
 *           prefill ends; scoring or generation continues on top. QAQ uses its own mode=prompt (it quantizes with the
 *           attention seen during the prefill); every other cache is wrapped in PromptCompressionCache.
 *   stream  how a server runs: every token goes into the cache as it is produced (QAQ: mode=stream, re-quantizing
 *           at every step).
 * The engine ends every forward call (however it is blocked) with one endForward, so "the prompt" is whatever the
 * first forward call on a fresh cache appended: the scoring loops prefill a whole context in one call.
 */
import { PromptCompressionCache } from "../../cache/PromptCompressionCache.js";
import type { KVCache } from "../../cache/KVCache.js";
import type { KVCacheConfig } from "../../cache/spec.js";
import { rollsBackExactly } from "../../cache/rollback.js";
import type { Engine } from "../../engine/Engine.js";
import { Session } from "../../engine/Session.js";
import { ConfigError, UsageError } from "../../util/errors.js";

export type EvalProtocol = "prompt" | "stream";
export const PROTOCOLS: readonly EvalProtocol[] = ["prompt", "stream"];

export function parseProtocol(text: string): EvalProtocol {
  if (text === "prompt" || text === "stream") return text;
  throw new UsageError(`--protocol must be "prompt" or "stream", got "${text}"`);
}

/** "prompt,stream" -> both; "prompt" -> one. */
export function parseProtocolList(text: string): EvalProtocol[] {
  return [...new Set(text.split(",").map((p) => p.trim()).filter((p) => p !== ""))].map(parseProtocol);
}

/**
 * The protocol a spec text pins, if any: a `qaq:` spec that names mode= runs only under that protocol. (The parsed
 * config cannot tell a default mode from a written one, so the text is read.)
 */
export function pinnedProtocol(specText: string): EvalProtocol | undefined {
  const match = /^\s*qaq\s*:(?:.*,)?\s*mode\s*=\s*(prompt|stream)\s*(?:,|$)/.exec(specText);
  return match ? (match[1] as EvalProtocol) : undefined;
}

/** The config a protocol runs: QAQ's own mode follows the protocol; every other config is unchanged. */
export function configForProtocol(config: KVCacheConfig, protocol: EvalProtocol): KVCacheConfig {
  if (config.kind !== "qaq") return config;
  if (protocol === "prompt") return { ...config, mode: "prompt", backing: "none" };
  // a prompt-mode spec has no backing tier; streaming gets the default one (memory)
  return { ...config, mode: "stream", backing: config.mode === "prompt" ? "memory" : config.backing };
}

/** A cache set up for one protocol, with what the scoring loops need to know about it. */
export interface EvalCache {
  readonly cache: KVCache;
  /** the session the scoring loops feed tokens through (on `cache`) */
  readonly session: Session;
  /**
   * whether truncate(n) brings the cache back exactly to its state after n positions: false for eviction (evicted
   * tokens are gone) and for streaming QAQ (widths re-planned with the attention of the rolled-back tokens); such
   * caches prefill the context again for every choice.
   */
  readonly exactRollback: boolean;
  dispose(): void;
}

export function createEvalCache(engine: Engine, config: KVCacheConfig, protocol: EvalProtocol): EvalCache {
  const run = configForProtocol(config, protocol);
  const base = engine.createCache(run);
  const cache = protocol === "prompt" && run.kind !== "qaq" ? new PromptCompressionCache(engine.compute, cacheShapeOf(engine), base) : base;
  const exactRollback = rollsBackExactly(run);
  return {
    cache,
    session: new Session(engine, cache, { exactRollback }),
    exactRollback,
    dispose: () => cache.dispose(),
  };
}

function cacheShapeOf(engine: Engine) {
  const { nLayers, nKvHeads, headDim, seqLen } = engine.config;
  return { nLayers, nKvHeads, headDim, maxTokens: seqLen };
}

/** A spec pinned to one protocol must not be asked to run under the other. */
export function checkProtocolAllowed(specText: string, protocol: EvalProtocol): void {
  const pinned = pinnedProtocol(specText);
  if (pinned !== undefined && pinned !== protocol) {
    throw new ConfigError("protocol", `"${pinned}" for the spec "${specText}" (its mode= pins the protocol)`, protocol);
  }
}
