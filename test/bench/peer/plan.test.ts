import { test } from "node:test";
import assert from "node:assert/strict";
import { parseKvSpec } from "../../../src/cache/spec.js";
import { PEER_KV_TYPES } from "../../../src/bench/peer/job.js";
import { DEFAULT_SUITES, LOW_BIT_CACHES, OUR_BASELINE_CACHE, PEER_BASELINE_CACHE, PEER_CACHE_FOR, PEER_SUITES, sweepFor } from "../../../src/bench/peer/plan.js";
import { sweepCapacity, validateSweep } from "../../../src/bench/peer/sweep.js";

test("every suite's sweeps are valid and the thread probe measures lengths of the full sweep", () => {
  for (const suite of PEER_SUITES) {
    validateSweep(suite.sweep);
    validateSweep(suite.threadProbe);
    for (const length of suite.threadProbe.contexts) assert.ok(suite.sweep.contexts.includes(length), `${suite.name} ${length}`);
    assert.equal(suite.threadProbe.prefillTokens, suite.sweep.prefillTokens, suite.name);
    for (const cache of [...suite.ourCaches, ...suite.peerCaches]) validateSweep(sweepFor(suite, cache));
  }
});

test("the stories sweep fits the bundled model's 512-token context", () => {
  const stories = PEER_SUITES.find((s) => s.name === "stories")!;
  assert.ok(sweepCapacity(stories.sweep) <= 512);
});

test("every cache of ours parses, has a llama.cpp counterpart, and the default suites compare the baselines", () => {
  for (const suite of PEER_SUITES) {
    if (DEFAULT_SUITES.includes(suite.name)) {
      assert.ok(suite.ourCaches.includes(OUR_BASELINE_CACHE), suite.name);
      assert.ok(suite.peerCaches.includes(PEER_BASELINE_CACHE), suite.name);
    }
    for (const cache of suite.ourCaches) {
      assert.ok(PEER_KV_TYPES.includes(PEER_CACHE_FOR[cache]!), `${cache} has a peer type`);
      assert.equal(parseKvSpec(cache).kind, cache.split(":")[0]);
    }
  }
  for (const cache of LOW_BIT_CACHES) assert.equal(PEER_CACHE_FOR[cache], "q4_0");
});

test("context limits cut a cache's sweep; caches without one run the whole sweep", () => {
  const shallow = PEER_SUITES.find((s) => s.name === "shallow")!;
  const full = shallow.sweep.contexts;
  assert.deepEqual(sweepFor(shallow, "fp32").contexts, full);
  for (const [cache, limit] of Object.entries(shallow.contextLimits)) {
    const contexts = sweepFor(shallow, cache).contexts;
    assert.ok(contexts.length > 0 && contexts.every((l) => l <= limit), cache);
    assert.deepEqual(contexts, full.filter((l) => l <= limit));
  }
  // the long-context targets need fp32, the low-bit caches and llama.cpp's q4_0 at the longest length
  for (const cache of ["fp32", ...LOW_BIT_CACHES, "q4_0"]) assert.equal(sweepFor(shallow, cache).contexts.at(-1), full.at(-1), cache);
  const long = PEER_SUITES.find((s) => s.name === "long")!;
  assert.ok(!DEFAULT_SUITES.includes("long"));
  assert.ok(long.ourCaches.includes("fp32") && long.peerCaches.includes("q4_0"));
});
