import { test } from "node:test";
import assert from "node:assert/strict";
import { bitsForSigma, keySigmaBound, valueSigmaBound } from "../../../src/cache/qaq/bitFormulas.js";
import { Rng } from "../../../src/util/rng.js";
import { assertConfigError } from "../../quant/assertConfigError.js";

const SQRT3 = Math.sqrt(3);

function assertClose(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

test("V-bound by hand: σ_V = ε_V / (sqrt(T)·s_t)", () => {
  // 0.1 / (sqrt(4)·0.5) = 0.1 / 1 = 0.1
  assertClose(valueSigmaBound(0.1, 4, 0.5), 0.1, 1e-15, "T=4");
  // 0.3 / (sqrt(9)·0.25) = 0.3 / 0.75 = 0.4
  assertClose(valueSigmaBound(0.3, 9, 0.25), 0.4, 1e-15, "T=9");
  // s_t = 0: a token nobody attends to can take any error
  assert.equal(valueSigmaBound(0.1, 4, 0), Infinity);
  assert.equal(valueSigmaBound(0, 4, 0.5), 0);
});

test("K-bound by hand: σ_K² = ln(T³/(T−1)·ε_K² + 1) / ‖Q‖²", () => {
  // T = 2: T³/(T−1) = 8. ε_K² = (e−1)/8 makes the log argument e, ln e = 1, so σ_K² = 1/‖Q‖² = 1/4: σ_K = 0.5
  assertClose(keySigmaBound(Math.sqrt((Math.E - 1) / 8), 2, 4), 0.5, 1e-14, "T=2");
  // T = 3: T³/(T−1) = 27/2 = 13.5. ε_K² = (e²−1)/13.5 gives ln e² = 2, σ_K² = 2/8: σ_K = 0.5
  assertClose(keySigmaBound(Math.sqrt((Math.E ** 2 - 1) / 13.5), 3, 8), 0.5, 1e-14, "T=3");
  // T = 11, ε_K = 0.001, ‖Q‖² = 1: 1331/10·1e-6 = 1.331e-4; ln(1 + x) = x − x²/2 + x³/3 − ...
  //   = 1.331e-4 − 8.857805e-9 + 7.9e-13 = 1.3309114e-4; sqrt = 0.011536513
  assertClose(keySigmaBound(0.001, 11, 1), 0.011536513, 1e-7, "T=11");
});

test("K-bound guard: T = 1 (softmax of one token is 1) and ‖Q‖² = 0 allow any key error", () => {
  assert.equal(keySigmaBound(0.01, 1, 5), Infinity);
  assert.equal(keySigmaBound(0.01, 100, 0), Infinity);
  assert.equal(keySigmaBound(Infinity, 100, 5), Infinity);
  assert.equal(keySigmaBound(0, 100, 5), 0);
});

test("bits, paper variant: ceil(log2(range / (2·sqrt(3)·σ))) clamped", () => {
  // σ = 1/(2·sqrt(3)) makes the denominator 1, so B = ceil(log2(range))
  const sigma = 1 / (2 * SQRT3);
  assert.equal(bitsForSigma(8, sigma, "paper", 0, 8), 3); // log2 8 = 3 exactly
  assert.equal(bitsForSigma(8.001, sigma, "paper", 0, 8), 4); // just above 2^3
  assert.equal(bitsForSigma(7.9, sigma, "paper", 0, 8), 3);
  assert.equal(bitsForSigma(1, sigma, "paper", 0, 8), 0); // 2^0 = 1 bin is enough
  assert.equal(bitsForSigma(0.9, sigma, "paper", 1, 8), 1); // log2 < 0, clamped to b_min
  assert.equal(bitsForSigma(300, sigma, "paper", 0, 8), 8); // log2 300 = 8.2, clamped to b_max
  // σ = 0.5: denominator sqrt(3) = 1.732; range 3.5 -> ratio 2.02 -> 2 bits; range 3.4 -> 1.96 -> 1 bit
  assert.equal(bitsForSigma(3.5, 0.5, "paper", 0, 8), 2);
  assert.equal(bitsForSigma(3.4, 0.5, "paper", 0, 8), 1);
});

test("bits, code variant: ceil(log2(range / (4·sqrt(3)·σ) + 1)) clamped", () => {
  // σ = 1/(4·sqrt(3)) makes the denominator 1, so B = ceil(log2(range + 1))
  const sigma = 1 / (4 * SQRT3);
  assert.equal(bitsForSigma(7, sigma, "code", 0, 8), 3); // log2 8 = 3
  assert.equal(bitsForSigma(7.01, sigma, "code", 0, 8), 4);
  assert.equal(bitsForSigma(3, sigma, "code", 0, 8), 2); // log2 4 = 2
  assert.equal(bitsForSigma(0.5, sigma, "code", 0, 8), 1); // log2 1.5 = 0.58: one bit while range > 0
  // same σ, paper form: range 7 / (2·sqrt(3)·σ = 0.5) = 14 -> 4 bits: the code form is a bit cheaper here
  assert.equal(bitsForSigma(7, sigma, "paper", 0, 8), 4);
});

test("bits edge cases: range 0 and σ = ∞ give b_min, σ = 0 gives b_max", () => {
  for (const variant of ["paper", "code"] as const) {
    assert.equal(bitsForSigma(0, 0.01, variant, 2, 6), 2);
    assert.equal(bitsForSigma(0, 0, variant, 2, 6), 2);
    assert.equal(bitsForSigma(5, Infinity, variant, 2, 6), 2);
    assert.equal(bitsForSigma(5, 0, variant, 2, 6), 6);
    assert.equal(bitsForSigma(5, valueSigmaBound(0.1, 10, 0), variant, 0, 8), 0);
  }
});

test("bits meet the noise model: σ(B) = range/(2^B·2·sqrt(3)) ≤ σ, and B − 1 would not (paper, unclamped)", () => {
  const rng = new Rng(11);
  for (let i = 0; i < 2000; i++) {
    const range = rng.uniform(0.01, 20);
    const sigma = Math.exp(rng.uniform(-8, 2));
    const bits = bitsForSigma(range, sigma, "paper", 0, 8);
    const noise = (b: number) => range / (2 ** b * 2 * SQRT3);
    if (bits < 8) assert.ok(noise(bits) <= sigma * (1 + 1e-12), `range ${range} σ ${sigma}: B=${bits} too coarse`);
    if (bits > 0) assert.ok(noise(bits - 1) > sigma, `range ${range} σ ${sigma}: B=${bits} not the smallest`);
  }
});

test("bits are monotonic: more σ never more bits, more range never fewer", () => {
  const rng = new Rng(12);
  for (const variant of ["paper", "code"] as const) {
    for (let i = 0; i < 2000; i++) {
      const range = rng.uniform(0, 10);
      const sigma = Math.exp(rng.uniform(-8, 1));
      const bits = bitsForSigma(range, sigma, variant, 0, 8);
      assert.ok(bitsForSigma(range, sigma * rng.uniform(1, 4), variant, 0, 8) <= bits);
      assert.ok(bitsForSigma(range * rng.uniform(1, 4), sigma, variant, 0, 8) >= bits);
    }
  }
});

test("Monte Carlo: noise at the K-bound gives std(S_t) ≈ ε_K; at the V-bound std(X) = ε_V", () => {
  // Independent check of the derivations: uniform logits (the expansion's case), Gaussian logit noise of
  // variance ‖Q‖²·σ_K² (q·δk with δk ~ N(0, σ_K²) per dimension), measured std of S_t vs ε_K.
  const rng = new Rng(13);
  const T = 64;
  const epsK = 0.002;
  const queryNormSq = 3;
  const logitSigma = Math.sqrt(queryNormSq) * keySigmaBound(epsK, T, queryNormSq);
  const trials = 3000;
  let sumSq = 0;
  const e = new Float64Array(T);
  for (let i = 0; i < trials; i++) {
    let z = 0;
    for (let t = 0; t < T; t++) z += e[t] = Math.exp(logitSigma * rng.normal());
    for (let t = 0; t < T; t++) sumSq += (e[t]! / z - 1 / T) ** 2;
  }
  assertClose(Math.sqrt(sumSq / (trials * T)), epsK, 0.1, "std(S_t)");

  // values: σ_X² = Σ S_t²·σ_V,t² with σ_V,t = ε_V/(sqrt(T)·S_t) is exactly ε_V² (s_t = S_t here)
  const epsV = 0.05;
  const S = new Float64Array(T).map(() => rng.uniform(0.001, 1));
  const total = S.reduce((a, b) => a + b, 0);
  let varX = 0;
  for (let t = 0; t < T; t++) varX += (S[t]! / total) ** 2 * valueSigmaBound(epsV, T, S[t]! / total) ** 2;
  assertClose(Math.sqrt(varX), epsV, 1e-12, "σ_X");
});

test("bad arguments fail with a ConfigError naming them", () => {
  assertConfigError(() => valueSigmaBound(-1, 4, 0.5), "valueTolerance", "≥ 0");
  assertConfigError(() => valueSigmaBound(0.1, 0, 0.5), "tokens", "≥ 1");
  assertConfigError(() => keySigmaBound(0.1, 2.5, 1), "tokens", "integer");
  assertConfigError(() => keySigmaBound(0.1, 4, Number.NaN), "queryNormSq", "≥ 0");
  assertConfigError(() => bitsForSigma(-1, 1, "paper", 0, 8), "range", "≥ 0");
  assertConfigError(() => bitsForSigma(1, 1, "paper", 5, 4), "minBits", "0..maxBits");
  assertConfigError(() => bitsForSigma(1, 1, "paper", 0, 9), "maxBits", "1..8");
  assertConfigError(() => bitsForSigma(1, 1, "fast" as "paper", 0, 8), "variant", "paper");
});
