/**
 * The two ways a cache is used (shared/docs/EVAL-PROTOCOL.md), and what each cache config does under each:
 *   prompt  the paper's prompt compression: the context is prefilled in full precision and quantized once when the
 *           prefill ends; scoring or generation continues on top. A config either does this itself ("native": QAQ's
 *           mode=prompt quantizes with the attention seen during the prefill) or is wrapped in a
 *           PromptCompressionCache ("wrapped": every other cache);
 *   stream  how a server runs: every token goes into the cache as it is produced (QAQ: mode=stream, re-quantizing
 *           at every step).
 * The switch below is exhaustive over the config kinds, so a new cache kind must say how it runs.
 */
import type { Compute } from "../kernels/Compute.js";
import { ConfigError } from "../util/errors.js";
import type { ReportingCache } from "./CacheReportView.js";
import type { CacheShape } from "./KVCache.js";
import { PromptCompressionCache } from "./PromptCompressionCache.js";
import { createCache } from "./createCache.js";
import type { KVCacheConfig } from "./spec.js";

export type CacheUsage = "prompt" | "stream";

export interface UsagePlan {
  /** the config to create */
  readonly config: KVCacheConfig;
  /** prompt usage: whether the cache compresses the prompt itself or needs the PromptCompressionCache wrapper */
  readonly promptCompression: "native" | "wrapped";
}

export function planUsage(config: KVCacheConfig, usage: CacheUsage): UsagePlan {
  switch (config.kind) {
    case "qaq":
      if (usage === "prompt") return { config: { ...config, mode: "prompt", backing: "none" }, promptCompression: "native" };
      // a prompt-mode spec has no backing tier; streaming gets the default one (memory)
      return { config: { ...config, mode: "stream", backing: config.mode === "prompt" ? "memory" : config.backing }, promptCompression: "native" };
    case "fp32":
    case "fp16":
    case "uniform":
    case "kivi":
    case "blockq":
    case "h2o":
    case "streaming":
      return { config, promptCompression: "wrapped" };
    default: {
      const unreachable: never = config;
      throw new Error(`no usage plan for ${JSON.stringify(unreachable)}`);
    }
  }
}

/** A cache set up for one usage: the planned config, wrapped for prompt compression where it needs to be. */
export function createCacheForUsage(compute: Compute, shape: CacheShape, config: KVCacheConfig, usage: CacheUsage): ReportingCache {
  const plan = planUsage(config, usage);
  const cache = createCache(compute, shape, plan.config);
  return usage === "prompt" && plan.promptCompression === "wrapped" ? new PromptCompressionCache(compute, shape, cache) : cache;
}

/**
 * The usage a spec text pins, if any: a `qaq:` spec that names mode= runs only that way. (The parsed config cannot
 * tell a default mode from a written one, so the text is read.)
 */
export function pinnedUsage(specText: string): CacheUsage | undefined {
  const match = /^\s*qaq\s*:(?:.*,)?\s*mode\s*=\s*(prompt|stream)\s*(?:,|$)/.exec(specText);
  return match ? (match[1] as CacheUsage) : undefined;
}

/** A spec pinned to one usage must not be asked to run the other way. */
export function checkUsageAllowed(specText: string, usage: CacheUsage): void {
  const pinned = pinnedUsage(specText);
  if (pinned !== undefined && pinned !== usage) {
    throw new ConfigError("protocol", `"${pinned}" for the spec "${specText}" (its mode= pins the protocol)`, usage);
  }
}
