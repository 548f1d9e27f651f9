import { test } from "node:test";
import assert from "node:assert/strict";
import { QaqCache } from "../../../src/cache/qaq/QaqCache.js";
import { parseQaqParams } from "../../../src/cache/qaq/qaqSpec.js";
import type { CacheShape } from "../../../src/cache/KVCache.js";
import { ConfigError } from "../../../src/util/errors.js";
import { Rng } from "../../../src/util/rng.js";
import { CacheDriver, policyOnlyCompute, spikyAttention } from "./qaqTestSupport.js";

// Budgets are checked against nbytes().hot, the bytes the cache holds, never against the planner's own model of them.

const SHAPE: CacheShape = { nLayers: 2, nKvHeads: 2, headDim: 16, maxTokens: 128 };
const OPTIONS = {
  attention: spikyAttention([{ t: 3, from: 10, to: 30, value: 0.6 }]),
  queryScale: () => 1.5,
};
const FP16_PER_TOKEN = 2 * 2 * SHAPE.nLayers * SHAPE.nKvHeads * SHAPE.headDim;

/** The smallest feasible budget the cache states when it refuses a budget (parsed from its ConfigError). */
function smallestFeasible(spec: string, shape: CacheShape = SHAPE): number {
  try {
    new QaqCache(policyOnlyCompute(), shape, parseQaqParams([spec, "budget=1"].filter(Boolean).join(","))).dispose();
  } catch (error) {
    assert.ok(error instanceof ConfigError && error.field === "qaq.budget", String(error));
    const match = /at least (\d+) bytes/.exec(error.message);
    assert.ok(match, error.message);
    return Number(match[1]);
  }
  assert.fail(`${spec}: budget=1 accepted`);
}

test("budget=bytes: hot bytes within the budget after every step once the first window is full; the planner's prediction is exact", () => {
  for (const base of ["", "group=layer", "backing=none,sinks=2"]) {
    const smallest = smallestFeasible(base);
    for (const factor of [1, 1.15, 1.6]) {
      const limit = Math.floor(smallest * factor);
      const spec = `${base}${base ? "," : ""}budget=${limit}`;
      const compute = policyOnlyCompute();
      const cache = new QaqCache(compute, SHAPE, parseQaqParams(spec));
      const driver = new CacheDriver(cache, compute, SHAPE, 21);
      driver.step(8, OPTIONS);
      for (let pos = 8; pos < SHAPE.maxTokens; pos++) {
        driver.step(1, OPTIONS);
        const hot = cache.nbytes().hot;
        const stats = cache.stats();
        assert.equal(stats.budgetBytes, hot, `${spec} at ${pos + 1} tokens: prediction vs nbytes`);
        assert.ok(hot <= limit, `${spec} at ${pos + 1} tokens: ${hot} > ${limit}`);
        assert.ok(stats.budgetMet);
      }
      cache.dispose();
    }
  }
});

test("budget: below the smallest feasible budget for the model and context -> ConfigError stating it; prompt mode refused", () => {
  const smallest = smallestFeasible("");
  assert.throws(
    () => new QaqCache(policyOnlyCompute(), SHAPE, parseQaqParams(`budget=${smallest - 1}`)),
    (error: unknown) => error instanceof ConfigError && error.message.includes(`at least ${smallest} bytes`) && error.message.includes("128 tokens"),
  );
  assert.throws(
    () => new QaqCache(policyOnlyCompute(), SHAPE, parseQaqParams("budget=1MB,mode=prompt")),
    (error: unknown) => error instanceof ConfigError && /mode=stream/.test(error.message),
  );
});

test("ratio=R: hot bytes within the same tokens' fp16 bytes / R at every step where the cheapest allocation fits, and from some step on always", () => {
  for (const ratio of [1.2, 1.4]) {
    const compute = policyOnlyCompute();
    const cache = new QaqCache(compute, SHAPE, parseQaqParams(`ratio=${ratio},outliers=0,group=layer,min=0`));
    const driver = new CacheDriver(cache, compute, SHAPE, 23);
    driver.step(8, OPTIONS);
    let lastUnmet = 0;
    for (let pos = 8; pos < SHAPE.maxTokens; pos++) {
      driver.step(1, OPTIONS);
      const hot = cache.nbytes().hot;
      const limit = (FP16_PER_TOKEN * (pos + 1)) / ratio;
      const stats = cache.stats();
      assert.equal(stats.budgetBytes, hot);
      assert.ok(Math.abs(stats.budgetLimitBytes - limit) < 1e-6);
      if (stats.budgetMet) {
        assert.ok(hot <= limit, `ratio ${ratio} at ${pos + 1} tokens: ${hot} > ${limit}`);
        assert.ok(hot > limit / 1.5, `ratio ${ratio} at ${pos + 1} tokens: budget left unused (${hot} of ${limit})`);
      } else lastUnmet = pos + 1;
    }
    assert.ok(lastUnmet < SHAPE.maxTokens / 2, `ratio ${ratio}: unmet until ${lastUnmet} tokens`);
    cache.dispose();
  }
});

test("ratio beyond what b_min can reach at the full context is refused when the cache is created, with the largest feasible ratio", () => {
  assert.throws(
    () => new QaqCache(policyOnlyCompute(), SHAPE, parseQaqParams("ratio=4")),
    (error: unknown) => error instanceof ConfigError && error.field === "qaq.ratio" && /at most \d+\.\d\d/.test(error.message),
  );
});

test("property: random budgets and lengths, hot bytes never exceed a budget the cache accepted", () => {
  const rng = new Rng(77);
  for (let trial = 0; trial < 6; trial++) {
    const maxTokens = 40 + Math.floor(rng.next() * 90);
    const shape: CacheShape = { ...SHAPE, maxTokens };
    const group = rng.next() < 0.5 ? "head" : "layer";
    const base = `group=${group}`;
    const smallest = smallestFeasible(base, shape);
    const limit = Math.floor(smallest * (1 + rng.next()));
    const compute = policyOnlyCompute();
    const cache = new QaqCache(compute, shape, parseQaqParams(`${base},budget=${limit}`));
    const driver = new CacheDriver(cache, compute, shape, 100 + trial);
    const prefill = 6 + Math.floor(rng.next() * 20);
    driver.step(prefill, OPTIONS);
    for (let pos = prefill; pos < maxTokens; pos++) {
      driver.step(1, OPTIONS);
      const hot = cache.nbytes().hot;
      assert.ok(hot <= limit, `trial ${trial} (${base}, ${maxTokens} tokens, budget ${limit}) at ${pos + 1}: ${hot}`);
    }
    cache.dispose();
  }
});

test("student64's shape (GQA, head size 64, 512-token context): every ratio up to 6 is feasible with the default widths and grouping", () => {
  const student64: CacheShape = { nLayers: 4, nKvHeads: 2, headDim: 64, maxTokens: 512, queryHeadsPerKvHead: 2 };
  for (const ratio of [2, 3, 4, 5, 6]) {
    const cache = new QaqCache(policyOnlyCompute(), student64, parseQaqParams(`ratio=${ratio}`));
    assert.equal(cache.group, "layer");
    cache.dispose();
  }
  // per KV head, twice the groups (each with its metadata, window state and ranges) put the cheapest allocation of
  // 512 tokens at 182144 bytes, 5.75x fp16's 1048576: the error states that largest feasible ratio
  assert.throws(
    () => new QaqCache(policyOnlyCompute(), student64, parseQaqParams("ratio=6,group=head")),
    (error: unknown) => error instanceof ConfigError && error.field === "qaq.ratio" && /at most 5\.75/.test(error.message),
  );
  new QaqCache(policyOnlyCompute(), student64, parseQaqParams("ratio=5.75,group=head")).dispose();
});
