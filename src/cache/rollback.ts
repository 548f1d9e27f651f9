import type { KVCacheConfig } from "./spec.js";

/**
 * Whether truncate(n) brings a cache of this config back exactly to its state after n positions. False for eviction
 * (evicted tokens are gone) and for streaming QAQ (widths were re-planned with the attention of the rolled-back
 * tokens); a caller that needs an exact state prefills again from an empty cache instead.
 */
export function rollsBackExactly(config: KVCacheConfig): boolean {
  switch (config.kind) {
    case "h2o":
    case "streaming":
      return false;
    case "qaq":
      return config.mode === "prompt";
    default:
      return true;
  }
}
