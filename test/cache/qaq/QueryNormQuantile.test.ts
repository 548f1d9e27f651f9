import { test } from "node:test";
import assert from "node:assert/strict";
import { HELD_BINS, QueryNormQuantile } from "../../../src/cache/qaq/QueryNormQuantile.js";
import { Rng } from "../../../src/util/rng.js";
import { assertConfigError } from "../../quant/assertConfigError.js";

/** The estimator's guarantee: same log bin as the exact order statistic, bins 2^(1/16) wide. */
const BIN_RELATIVE_WIDTH = 2 ** (1 / 16) - 1;

/** Exact p-quantile by the estimator's definition: x_(k), k = max(1, ceil(p·N)), from a sorted copy. */
function exactQuantile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const k = Math.max(1, Math.ceil(p * sorted.length - 1e-9 * sorted.length));
  return sorted[k - 1]!;
}

function relativeError(estimate: number, exact: number): number {
  return Math.abs(estimate - exact) / exact;
}

test("the 0.9-quantile of 1..10 is the 9th value; estimate within one bin", () => {
  const estimator = new QueryNormQuantile(1, 1, 0.9);
  for (let x = 1; x <= 10; x++) estimator.observeNormSq(0, 0, x);
  // k = ceil(0.9·10) = 9 -> x_(9) = 9
  assert.equal(exactQuantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
  assert.ok(relativeError(estimator.estimate(0, 0), 9) < BIN_RELATIVE_WIDTH, `${estimator.estimate(0, 0)}`);
  assert.equal(estimator.count(0, 0), 10);
});

test("large lognormal sample: estimate within 1% of the exact quantile in the held window, an upper bound below it", () => {
  const rng = new Rng(21);
  // log-σ 0.5: the largest of 20000 samples is about e^1.9 (6.7x) above the 0.9-quantile, inside the 16x window;
  // log-σ 1.5: about 60x above it, outside, so the estimate is the window's lower edge, above the quantile
  for (const [sigma, p] of [[0.5, 0.5], [0.5, 0.9], [0.5, 0.99], [1.5, 0.99], [1.5, 0.9]] as const) {
    const estimator = new QueryNormQuantile(1, 1, p);
    const samples: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = Math.exp(sigma * rng.normal() + 0.5);
      samples.push(x);
      estimator.observeNormSq(0, 0, x);
    }
    const exact = exactQuantile(samples, p);
    const edge = windowLowerEdge(Math.max(...samples));
    const estimate = estimator.estimate(0, 0);
    if (exact >= edge) assert.ok(relativeError(estimate, exact) < 0.01, `σ=${sigma} p=${p}: ${estimate} vs ${exact}`);
    else {
      assert.equal(sigma, 1.5, `σ=${sigma} p=${p}: outside the window`);
      assert.ok(estimate >= exact && estimate <= edge * (1 + 1e-9), `σ=${sigma} p=${p}: ${estimate} vs ${exact}, edge ${edge}`);
    }
  }
});

/** Lower edge of the sketch's held window for a largest sample `max`: HELD_BINS − 1 bins of 2^(1/16) below max's bin. */
function windowLowerEdge(max: number): number {
  return 2 ** ((Math.floor(16 * Math.log2(max)) - (HELD_BINS - 1)) / 16);
}

test("any sample size: within one bin (< 4.4%) when the quantile is in the held window, else an upper bound below its edge", () => {
  const rng = new Rng(22);
  let inWindow = 0;
  let belowWindow = 0;
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(rng.next() * 200);
    const p = rng.uniform(0.05, 1);
    const estimator = new QueryNormQuantile(1, 1, p);
    const samples: number[] = [];
    const scale = Math.exp(rng.uniform(-10, 10));
    for (let i = 0; i < n; i++) {
      const x = scale * rng.uniform(0.1, 3) ** 3;
      samples.push(x);
      estimator.observeNormSq(0, 0, x);
    }
    const exact = exactQuantile(samples, p);
    const estimate = estimator.estimate(0, 0);
    const edge = windowLowerEdge(Math.max(...samples));
    if (exact >= edge * (1 + 1e-9)) {
      inWindow++;
      assert.ok(relativeError(estimate, exact) < BIN_RELATIVE_WIDTH, `n=${n} p=${p}: ${estimate} vs ${exact}`);
    } else {
      belowWindow++;
      assert.ok(estimate >= exact && estimate <= edge * (1 + 1e-9), `n=${n} p=${p}: ${estimate} vs ${exact}, edge ${edge}`);
    }
  }
  // the samples span a factor of 27000 (2^14.7), so both cases occur
  assert.ok(inWindow > 50 && belowWindow > 20, `${inWindow} in the window, ${belowWindow} below`);
});

test("a new largest sample moves the window up: earlier counts stay in the rank, the quantile stays conservative", () => {
  const estimator = new QueryNormQuantile(1, 1, 0.5);
  for (let i = 0; i < 99; i++) estimator.observeNormSq(0, 0, 1 + i / 99);
  assert.ok(relativeError(estimator.estimate(0, 0), 1.5) < BIN_RELATIVE_WIDTH);
  // 2^20 is 20 octaves above: every earlier sample falls below the window, the median becomes its lower edge
  estimator.observeNormSq(0, 0, 2 ** 20);
  assert.equal(estimator.count(0, 0), 100);
  assert.equal(estimator.estimate(0, 0), windowLowerEdge(2 ** 20));
  // samples inside the new window take over the rank again
  for (let i = 0; i < 200; i++) estimator.observeNormSq(0, 0, 2 ** 19);
  assert.ok(relativeError(estimator.estimate(0, 0), 2 ** 19) < BIN_RELATIVE_WIDTH, `${estimator.estimate(0, 0)}`);
});

test("p = 1 is the exact maximum; all-zero queries give 0; no sample gives NaN", () => {
  const estimator = new QueryNormQuantile(1, 2, 1);
  for (const x of [0.3, 7.25, 2]) estimator.observeNormSq(0, 0, x);
  assert.equal(estimator.estimate(0, 0), 7.25);
  assert.ok(Number.isNaN(estimator.estimate(0, 1)));
  estimator.observeNormSq(0, 1, 0);
  estimator.observeNormSq(0, 1, 0);
  assert.equal(estimator.estimate(0, 1), 0);
});

test("observe takes ‖q‖² of each query row; units are independent; estimateLayer is the max over heads", () => {
  const estimator = new QueryNormQuantile(2, 2, 1);
  // rows (3, 4) and (1, 2): squared norms 25 and 5
  estimator.observe(1, 0, new Float32Array([3, 4, 1, 2]), 2, 2);
  estimator.observe(1, 1, new Float32Array([0, 6]), 1, 2);
  assert.equal(estimator.estimate(1, 0), 25);
  assert.equal(estimator.estimate(1, 1), 36);
  assert.equal(estimator.estimateLayer(1), 36);
  assert.equal(estimator.count(0, 0), 0);
  assert.ok(Number.isNaN(estimator.estimateLayer(0)));
  estimator.reset();
  assert.equal(estimator.count(1, 0), 0);
});

test("fixed size: 64 u32 counters and 36 bytes of summary per unit, whatever the queries", () => {
  const estimator = new QueryNormQuantile(4, 2, 0.9);
  const before = estimator.byteLength;
  assert.equal(before, 8 * (HELD_BINS * 4 + 4 + 8 * 4));
  const rng = new Rng(23);
  for (let i = 0; i < 5000; i++) estimator.observeNormSq(i % 4, i % 2, 0.1 * 1e12 ** rng.next());
  estimator.observeNormSq(0, 0, 1e30);
  estimator.observeNormSq(0, 0, 0);
  assert.equal(estimator.byteLength, before);
  assert.equal(estimator.maxByteLength, before);
  // i % 4 and i % 2 pair layer 0 with head 0 for every 4th sample: 1250, plus the two extremes
  assert.equal(estimator.count(0, 0), 1252);
});

test("bad arguments fail with a ConfigError", () => {
  assertConfigError(() => new QueryNormQuantile(1, 1, 0), "quantile", "(0, 1]");
  assertConfigError(() => new QueryNormQuantile(0, 1, 0.9), "nLayers", "≥ 1");
  const estimator = new QueryNormQuantile(1, 1, 0.9);
  assertConfigError(() => estimator.observeNormSq(0, 0, Number.NaN), "query norm²", "finite");
  assertConfigError(() => estimator.observeNormSq(0, 1, 1), "kvHead", "0..0");
  assertConfigError(() => estimator.observe(0, 0, new Float32Array(3), 2, 2), "q", "2x2");
});
