import type { Compute } from "../kernels/Compute.js";
import type { CacheShape, KVCache } from "./KVCache.js";
import type { KVCacheConfig } from "./spec.js";
import { DenseCache } from "./DenseCache.js";

/** The one place that maps a validated cache config to its implementation. */
export function createCache(compute: Compute, shape: CacheShape, config: KVCacheConfig): KVCache {
  switch (config.kind) {
    case "fp32":
      return new DenseCache(compute, shape, "f32");
    case "fp16":
      return new DenseCache(compute, shape, "f16");
    default: {
      const unreachable: never = config;
      throw new Error(`no cache for ${JSON.stringify(unreachable)}`);
    }
  }
}
