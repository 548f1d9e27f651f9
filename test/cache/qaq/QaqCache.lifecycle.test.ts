import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { QaqCache } from "../../../src/cache/qaq/QaqCache.js";
import { FileBackingTier } from "../../../src/platform/node/FileBackingTier.js";
import { parseQaqParams } from "../../../src/cache/qaq/qaqSpec.js";
import type { CacheShape } from "../../../src/cache/KVCache.js";
import { CacheDriver, policyOnlyCompute, spikyAttention } from "./qaqTestSupport.js";

const SHAPE: CacheShape = { nLayers: 2, nKvHeads: 2, headDim: 16, maxTokens: 96 };
const OPTIONS = { attention: spikyAttention([{ t: 2, from: 0, to: 96, value: 0.5 }]), queryScale: () => 1 };

/** Widths of every group of a part, token-major (t·groups + g); 15 = empty (held in fp16). */
function widths(cache: QaqCache, layer: number, part: "keys" | "values"): number[] {
  const packed = cache.layers[layer]![part];
  const out: number[] = [];
  for (let t = 0; t < packed.tokens; t++) for (let g = 0; g < packed.groupsPerToken; g++) out.push(packed.bitsOf(t, g));
  return out;
}

test("prompt mode: the first forward pass is quantized once (young prompt tokens at b_max), later tokens stay fp16", () => {
  const compute = policyOnlyCompute();
  const cache = new QaqCache(compute, SHAPE, parseQaqParams("mode=prompt,sinks=1,max=7"));
  const driver = new CacheDriver(cache, compute, SHAPE, 41);
  driver.step(12, OPTIONS);
  for (const layer of cache.layers) {
    assert.equal(layer.firstResident, 12, "the whole prompt is packed");
    assert.equal(layer.residentCount, 0);
    // tokens 8..11 were seen by fewer than 5 prompt rows: b_max; token 0 is a sink (empty group)
    for (let t = 8; t < 12; t++) for (let g = 0; g < 2; g++) assert.equal(layer.keys.bitsOf(t, g), 7, `token ${t}`);
    assert.equal(layer.keys.bitsOf(0, 0), 15);
  }
  const frozen = [widths(cache, 0, "keys"), widths(cache, 0, "values")];
  for (let i = 0; i < 6; i++) driver.step(1, OPTIONS);
  assert.deepEqual([widths(cache, 0, "keys").slice(0, 24), widths(cache, 0, "values").slice(0, 24)], frozen, "prompt widths never change");
  for (const layer of cache.layers) assert.equal(layer.residentCount, 6, "decoded tokens stay in fp16");
  const stats = cache.stats();
  assert.equal(stats.quantized, 2 * 2 * 2 * 11, "11 prompt tokens x 2 groups x K,V x 2 layers, once");
  assert.equal(stats.requantized, 0);
  // choices scored on top: roll back to the prompt, the prompt stays quantized
  cache.truncate(12);
  driver.truncate(12);
  assert.equal(cache.layers[0]!.residentCount, 0);
  assert.equal(cache.layers[0]!.firstResident, 12);
  cache.dispose();
});

test("truncate drops packed and fp16 tokens, reset empties everything; the cache keeps working", () => {
  const compute = policyOnlyCompute();
  const cache = new QaqCache(compute, SHAPE, parseQaqParams("backing=memory"));
  const driver = new CacheDriver(cache, compute, SHAPE, 42);
  driver.step(10, OPTIONS);
  for (let i = 0; i < 10; i++) driver.step(1, OPTIONS);
  const before = cache.nbytes().codes;
  cache.truncate(8);
  driver.truncate(8);
  assert.equal(cache.nextPos, 8);
  for (const layer of cache.layers) {
    assert.equal(layer.tokens, 8);
    assert.ok(layer.firstResident <= 8);
  }
  for (let i = 0; i < 8; i++) driver.step(1, OPTIONS);
  assert.equal(cache.storedTokens(1), 16);
  assert.ok(before > 0);
  cache.reset();
  driver.truncate(0);
  assert.equal(cache.nextPos, 0);
  driver.step(9, OPTIONS);
  assert.equal(cache.storedTokens(0), 9);
  cache.dispose();
});

test("file backing: positioned reads only for re-quantized groups; the temporary file is removed on dispose", () => {
  const compute = policyOnlyCompute();
  const cache = new QaqCache(compute, SHAPE, parseQaqParams("backing=file"));
  const tier = cache.backing as FileBackingTier;
  assert.ok(tier instanceof FileBackingTier);
  // unlinked as soon as it is open (POSIX): an interrupted process leaves nothing behind
  assert.equal(existsSync(tier.path), !tier.unlinked);
  const driver = new CacheDriver(cache, compute, SHAPE, 43);
  const options = { attention: spikyAttention([{ t: 3, from: 8, to: 10, value: 0.9 }, { t: 3, from: 20, to: 22, value: 0.9 }]), queryScale: () => 1 };
  driver.step(6, options);
  for (let i = 0; i < 20; i++) driver.step(1, options);
  const stats = cache.stats();
  assert.ok(stats.requantized > 0);
  assert.equal(stats.backingReads, stats.requantized);
  assert.equal(stats.backingBytesRead, stats.requantized * 2 * SHAPE.headDim);
  // 26 tokens x 2 parts x 2 layers x 32 values x 2 bytes, reported apart from the hot cache
  assert.equal(cache.nbytes().backing, 26 * 2 * 2 * 32 * 2);
  assert.equal(cache.nbytes().hot, cache.nbytes().codes + cache.nbytes().metadata + cache.nbytes().outliers + cache.nbytes().residual);
  cache.dispose();
  assert.ok(!existsSync(tier.path) && !existsSync(tier.directory));
});
