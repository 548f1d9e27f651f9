import { test } from "node:test";
import assert from "node:assert/strict";
import { QaqCache } from "../../../src/cache/qaq/QaqCache.js";
import { parseQaqParams } from "../../../src/cache/qaq/qaqSpec.js";
import { SlabArena } from "../../../src/cache/SlabArena.js";
import type { CacheShape } from "../../../src/cache/KVCache.js";
import { ConfigError, MemoryLimitError } from "../../../src/util/errors.js";
import { CacheDriver, policyOnlyCompute, spikyAttention } from "./qaqTestSupport.js";

const SHAPE: CacheShape = { nLayers: 2, nKvHeads: 2, headDim: 16, maxTokens: 128 };
const OPTIONS = {
  attention: spikyAttention([{ t: 3, from: 10, to: 30, value: 0.6 }]),
  queryScale: () => 1.5,
};

/**
 * The budgeted bytes recounted from the cache's state, independently of the planner: per ledger entry 9 bytes
 * (u32 slot, u8 bits, two f16), per packed group its slot at the arena's size for its width, per fp16 token (sinks,
 * unquantized tail) 2 bytes per value of K and V. `packedOnly` counts the packed groups alone (ratio mode) and
 * returns their fp16 size beside.
 */
function recount(cache: QaqCache): { all: number; packed: number; packedFp16: number } {
  const kvDim = SHAPE.nKvHeads * SHAPE.headDim;
  let all = 0;
  let packed = 0;
  let packedFp16 = 0;
  for (const layer of cache.layers) {
    const gpt = layer.groupsPerToken;
    all += 2 * 9 * gpt * layer.tokens + 2 * 2 * kvDim * (layer.sinkCount + layer.residentCount);
    for (const part of ["keys", "values"] as const) {
      const bits = layer[part].ledger.views().bits;
      for (let m = layer.sinkCount * gpt; m < layer.firstResident * gpt; m++) {
        const slot = SlabArena.slotSize(layer[part].store.slotBytes(bits[m]!));
        all += slot;
        packed += slot + 9;
        packedFp16 += 2 * layer.groupLength;
      }
    }
  }
  return { all, packed, packedFp16 };
}

test("budget=bytes: every step lands within the budget, close to it once quantization is possible", () => {
  for (const spec of ["budget=9000", "budget=7KB,group=layer", "budget=9000,backing=none,sinks=2"]) {
    const compute = policyOnlyCompute();
    const cache = new QaqCache(compute, SHAPE, parseQaqParams(spec));
    const limit = cache.config.budget!.kind === "bytes" ? cache.config.budget!.bytes : 0;
    const driver = new CacheDriver(cache, compute, SHAPE, 21);
    driver.step(8, OPTIONS);
    for (let i = 0; i < 30; i++) {
      driver.step(1, OPTIONS);
      const used = recount(cache).all;
      const stats = cache.stats();
      assert.ok(used <= limit, `${spec} step ${i}: ${used} > ${limit}`);
      assert.equal(stats.budgetBytes, used, `${spec} step ${i}: planner and recount disagree`);
      assert.equal(stats.budgetLimitBytes, limit);
    }
    assert.ok(cache.stats().toleranceScale > 0, `${spec}: the budget binds`);
    cache.dispose();
  }
});

test("budget: too small for b_min everywhere -> MemoryLimitError naming the bytes needed", () => {
  const compute = policyOnlyCompute();
  const cache = new QaqCache(compute, SHAPE, parseQaqParams("budget=1500"));
  const driver = new CacheDriver(cache, compute, SHAPE, 22);
  assert.throws(
    () => driver.step(8, OPTIONS),
    (error: unknown) => error instanceof MemoryLimitError && /cannot be met.*needs \d+ bytes/.test(error.message),
  );
  cache.dispose();
});

test("ratio=R: the packed groups stay within their fp16 size / R at every step", () => {
  for (const ratio of [1.5, 2.2]) {
    const compute = policyOnlyCompute();
    const cache = new QaqCache(compute, SHAPE, parseQaqParams(`ratio=${ratio},outliers=0,group=layer,min=0`));
    const driver = new CacheDriver(cache, compute, SHAPE, 23);
    driver.step(8, OPTIONS);
    for (let i = 0; i < 30; i++) {
      driver.step(1, OPTIONS);
      const { packed, packedFp16 } = recount(cache);
      assert.ok(packed <= packedFp16 / ratio, `ratio ${ratio} step ${i}: ${packed} > ${packedFp16} / ${ratio}`);
      assert.ok(packed > packedFp16 / ratio / 1.5, `ratio ${ratio} step ${i}: budget left unused (${packed} of ${packedFp16 / ratio})`);
    }
    cache.dispose();
  }
});

test("ratio beyond what b_min can reach is rejected when the cache is created", () => {
  // head groups of 16 values with 1% outliers (1 per side): at min=1 a slot is 2 code bytes + 8 outlier bytes = 10
  // (the arena stores slots at their exact size), plus 9 ledger bytes = 19 bytes vs 32 in fp16: at most 1.68x
  assert.throws(
    () => new QaqCache(policyOnlyCompute(), SHAPE, parseQaqParams("ratio=2")),
    (error: unknown) => error instanceof ConfigError && error.field === "qaq.ratio" && error.message.includes("at most 1.68"),
  );
});
