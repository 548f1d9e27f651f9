import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveGroup } from "../../../src/cache/qaq/QaqCache.js";
import { parseQaqParams } from "../../../src/cache/qaq/qaqSpec.js";
import type { CacheShape } from "../../../src/cache/KVCache.js";

const base: CacheShape = { nLayers: 2, nKvHeads: 2, headDim: 64, maxTokens: 64 };

test("group=auto: per layer for GQA with several KV heads, per head for MHA, one KV head or an unknown ratio", () => {
  const auto = parseQaqParams("");
  assert.equal(auto.group, "auto");
  assert.equal(resolveGroup(auto, { ...base, queryHeadsPerKvHead: 2 }), "layer");
  assert.equal(resolveGroup(auto, { ...base, queryHeadsPerKvHead: 1 }), "head");
  assert.equal(resolveGroup(auto, base), "head");
  assert.equal(resolveGroup(auto, { ...base, nKvHeads: 1, queryHeadsPerKvHead: 8 }), "head");
});

test("an explicit group wins over the model's shape", () => {
  for (const group of ["head", "layer"] as const) {
    const config = parseQaqParams(`group=${group}`);
    assert.equal(resolveGroup(config, { ...base, queryHeadsPerKvHead: 2 }), group);
    assert.equal(resolveGroup(config, { ...base, queryHeadsPerKvHead: 1 }), group);
  }
});
