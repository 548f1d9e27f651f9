import type { Compute } from "../kernels/Compute.js";
import type { CacheShape } from "./KVCache.js";
import type { ReportingCache } from "./CacheReportView.js";
import type { KVCacheConfig } from "./spec.js";
import { DenseCache } from "./DenseCache.js";
import { UniformCache } from "./UniformCache.js";
import { KiviCache } from "./KiviCache.js";
import { BlockqCache } from "./BlockqCache.js";
import { EvictingCache } from "./EvictingCache.js";
import { QaqCache } from "./qaq/QaqCache.js";
import { RotatedCache } from "./RotatedCache.js";
import { checkRotation } from "./rotation.js";
import { ChannelSmoothedCache } from "./ChannelSmoothedCache.js";

/**
 * The one place that maps a validated cache config to its implementation. Around the cache of a config's kind:
 * rotate=hadamard puts a RotatedCache (keys and values rotated before the cache quantizes them), and keys=channel a
 * ChannelSmoothedCache outside that (keys divided per channel in the model's own channels, before any rotation).
 */
export function createCache(compute: Compute, shape: CacheShape, config: KVCacheConfig): ReportingCache {
  let cache: ReportingCache;
  if ("rotate" in config && config.rotate === "hadamard") {
    checkRotation(config.kind, config.rotate, shape.headDim);
    cache = new RotatedCache(compute, shape, createPlainCache(compute, shape, config));
  } else {
    cache = createPlainCache(compute, shape, config);
  }
  return "keys" in config && config.keys === "channel" ? new ChannelSmoothedCache(compute, shape, cache) : cache;
}

function createPlainCache(compute: Compute, shape: CacheShape, config: KVCacheConfig): ReportingCache {
  switch (config.kind) {
    case "fp32":
      return new DenseCache(compute, shape, "f32");
    case "fp16":
      return new DenseCache(compute, shape, "f16");
    case "uniform":
      return new UniformCache(compute, shape, config);
    case "kivi":
      return new KiviCache(compute, shape, config);
    case "blockq":
      return new BlockqCache(compute, shape, config);
    case "h2o":
    case "streaming":
      return new EvictingCache(compute, shape, config);
    case "qaq":
      return new QaqCache(compute, shape, config);
    default: {
      const unreachable: never = config;
      throw new Error(`no cache for ${JSON.stringify(unreachable)}`);
    }
  }
}
