import { test } from "node:test";
import assert from "node:assert/strict";
import { maxOf, softmax64, topK } from "../../src/bench/compat/probe.js";
import { Rng } from "../../src/util/rng.js";

// The helpers both engines' results go through in the compatibility check, against plain definitions.

test("topK equals a full sort (most probable first, ties by smaller id)", () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 50; trial++) {
    // few distinct values, so ties are common
    const p = Float32Array.from({ length: 40 + (rng.nextU32() % 60) }, () => (rng.nextU32() % 9) / 8);
    const sorted = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]! || a - b);
    for (const k of [1, 4, 8]) assert.deepEqual(topK(p, k), sorted.slice(0, k), `trial ${trial}, k ${k}`);
  }
});

test("softmax64 sums to 1, keeps the order and equals exp(l - logsumexp); maxOf takes a 151669-long row", () => {
  const logits = Float32Array.from({ length: 151669 }, (_, i) => Math.sin(i) * 20);
  const p = softmax64(logits);
  let sum = 0;
  for (const v of p) sum += v;
  assert.ok(Math.abs(sum - 1) < 1e-4, `sum ${sum}`);
  const best = topK(p, 1)[0]!;
  assert.equal(p[best], maxOf(p));
  assert.equal(logits[best], maxOf(logits));
  let lse = 0;
  for (const l of logits) lse += Math.exp(l - logits[best]!);
  assert.ok(Math.abs(p[best]! - 1 / lse) < 1e-7);
});
