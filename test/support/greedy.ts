import type { Engine } from "../../src/engine/Engine.js";
import { argmax } from "../../src/generate/sampler.js";
import type { KVCacheConfig } from "../../src/cache/spec.js";

/** Greedy decoding: the prompt as one batch, then one token at a time; returns prompt + generated ids. */
export function greedy(e: Engine, prompt: readonly number[], steps: number, kv: KVCacheConfig = { kind: "fp32" }): number[] {
  const cache = e.createCache(kv);
  const ids = [...prompt];
  let logits = e.model.forward(Int32Array.from(prompt), 0, cache, "last");
  while (ids.length < prompt.length + steps) {
    const next = argmax(logits);
    ids.push(next);
    if (ids.length === prompt.length + steps) break;
    logits = e.model.forward(Int32Array.of(next), ids.length - 1, cache, "last");
  }
  cache.dispose();
  return ids;
}
