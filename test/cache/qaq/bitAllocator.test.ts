import { test } from "node:test";
import assert from "node:assert/strict";
import {
  allocateBits,
  FULL_PRECISION_BITS,
  type BitPolicy,
  type TokenBits,
  type TokenEvidence,
} from "../../../src/cache/qaq/bitAllocator.js";
import { bitsForSigma, keySigmaBound, valueSigmaBound } from "../../../src/cache/qaq/bitFormulas.js";
import { Rng } from "../../../src/util/rng.js";
import { randomEvidence } from "./randomEvidence.js";
import { assertConfigError } from "../../quant/assertConfigError.js";

function bitsFor(T: number): TokenBits {
  return { key: new Uint8Array(T), value: new Uint8Array(T) };
}

test("a hand-worked allocation: sink, bounded key and value, b_min clamps, young token", () => {
  const policy: BitPolicy = { minBits: 1, maxBits: 8, variant: "paper", sinkTokens: 1 };
  // T = 4: T³/(T−1) = 64/3. ε_K² = 3(e−1)/64 makes ln(64/3·ε_K² + 1) = ln e = 1, so σ_K² = 1/‖Q‖²;
  //   ‖Q‖² = 12 gives σ_K = 1/(2·sqrt(3)) and B_K = ceil(log2(range)).
  // ε_V = 1/sqrt(3): σ_V = ε_V/(sqrt(4)·s) = 1/(2·sqrt(3)·s), so B_V = ceil(log2(range·s)).
  const tolerances = { key: Math.sqrt((3 * (Math.E - 1)) / 64), value: 1 / Math.sqrt(3) };
  const evidence: TokenEvidence = {
    keyRange: new Float32Array([9, 5, 0.5, 3]),
    valueRange: new Float32Array([9, 8, 8, 3]),
    attention: new Float32Array([0.9, 0.5, 0, 0.001]),
    young: new Uint8Array([0, 0, 0, 1]),
  };
  const out = bitsFor(4);
  allocateBits(policy, tolerances, 4, 12, evidence, out);
  // t0: sink -> full precision
  // t1: key log2 5 = 2.32 -> 3; value log2(8·0.5) = 2
  // t2: key log2 0.5 = −1 -> b_min 1; value s = 0 -> σ = ∞ -> b_min 1
  // t3: young -> b_max 8 for both
  assert.deepEqual([...out.key], [FULL_PRECISION_BITS, 3, 1, 8]);
  assert.deepEqual([...out.value], [FULL_PRECISION_BITS, 2, 1, 8]);
});

test("every mature token's widths are bitsForSigma of its K-bound and V-bound (the allocator's fast path)", () => {
  const rng = new Rng(44);
  for (let trial = 0; trial < 100; trial++) {
    const T = 2 + Math.floor(rng.next() * 200);
    const variant = trial % 2 === 0 ? "paper" : "code";
    const policy: BitPolicy = { minBits: trial % 3, maxBits: 5 + (trial % 4), variant, sinkTokens: 0 };
    const evidence = randomEvidence(rng, T);
    const tolerances = { key: Math.exp(rng.uniform(-9, -2)), value: Math.exp(rng.uniform(-6, 0)) };
    const queryNormSq = Math.exp(rng.uniform(-3, 3));
    const out = bitsFor(T);
    allocateBits(policy, tolerances, T, queryNormSq, evidence, out);
    const keySigma = keySigmaBound(tolerances.key, T, queryNormSq);
    for (let t = 0; t < T; t++) {
      if (evidence.young[t] !== 0) continue;
      const valueSigma = valueSigmaBound(tolerances.value, T, evidence.attention[t]!);
      assert.equal(out.key[t], bitsForSigma(evidence.keyRange[t]!, keySigma, variant, policy.minBits, policy.maxBits), `trial ${trial} key ${t}`);
      assert.equal(out.value[t], bitsForSigma(evidence.valueRange[t]!, valueSigma, variant, policy.minBits, policy.maxBits), `trial ${trial} value ${t}`);
    }
  }
});

test("a larger tolerance never gives more bits (random inputs, both variants)", () => {
  const rng = new Rng(41);
  for (let trial = 0; trial < 200; trial++) {
    const T = 2 + Math.floor(rng.next() * 300);
    const variant = trial % 2 === 0 ? "paper" : "code";
    const policy: BitPolicy = { minBits: trial % 3, maxBits: 8, variant, sinkTokens: trial % 4 };
    const evidence = randomEvidence(rng, T);
    const queryNormSq = Math.exp(rng.uniform(-3, 3));
    const base = { key: Math.exp(rng.uniform(-9, -2)), value: Math.exp(rng.uniform(-6, 0)) };
    const factor = Math.exp(rng.uniform(0, 3));
    const tight = bitsFor(T);
    const loose = bitsFor(T);
    allocateBits(policy, base, T, queryNormSq, evidence, tight);
    allocateBits(policy, { key: base.key * factor, value: base.value * factor }, T, queryNormSq, evidence, loose);
    for (let t = 0; t < T; t++) {
      assert.ok(loose.key[t]! <= tight.key[t]!, `trial ${trial} token ${t}: key ${loose.key[t]} > ${tight.key[t]}`);
      assert.ok(loose.value[t]! <= tight.value[t]!, `trial ${trial} token ${t}: value ${loose.value[t]} > ${tight.value[t]}`);
    }
  }
});

test("more attention never gives fewer value bits, and never changes key bits", () => {
  const rng = new Rng(42);
  for (let trial = 0; trial < 200; trial++) {
    const T = 2 + Math.floor(rng.next() * 300);
    const policy: BitPolicy = { minBits: 0, maxBits: 4 + (trial % 5), variant: trial % 2 ? "paper" : "code", sinkTokens: 0 };
    const evidence = randomEvidence(rng, T);
    const tolerances = { key: 0.001, value: Math.exp(rng.uniform(-6, 0)) };
    const before = bitsFor(T);
    allocateBits(policy, tolerances, T, 2, evidence, before);
    const boosted = Float32Array.from(evidence.attention, (s) => (rng.next() < 0.5 ? Math.min(1, s * rng.uniform(1, 50) + rng.next() * 0.01) : s));
    const after = bitsFor(T);
    allocateBits(policy, tolerances, T, 2, { ...evidence, attention: boosted }, after);
    for (let t = 0; t < T; t++) {
      assert.ok(after.value[t]! >= before.value[t]!, `trial ${trial} token ${t}`);
      assert.equal(after.key[t], before.key[t]);
    }
  }
});

test("short arrays fail with a ConfigError naming them", () => {
  const policy: BitPolicy = { minBits: 1, maxBits: 8, variant: "paper", sinkTokens: 0 };
  const evidence = randomEvidence(new Rng(43), 4);
  assertConfigError(() => allocateBits(policy, { key: 1, value: 1 }, 5, 1, evidence, bitsFor(5)), "keyRange", "T = 5");
  assertConfigError(() => allocateBits(policy, { key: 1, value: 1 }, 4, 1, evidence, bitsFor(3)), "out.key", "T = 4");
});
