import { test } from "node:test";
import assert from "node:assert/strict";
import { GroupRangeMeter } from "../../../src/cache/qaq/GroupRangeMeter.js";
import { Rng } from "../../../src/util/rng.js";

/** Independent: sort the group, drop i from the bottom and k − i from the top for every i, smallest range left. */
function sortedRange(values: Float32Array, offset: number, n: number, k: number): number {
  const sorted = [...values.subarray(offset, offset + n)].sort((a, b) => a - b);
  let best = Infinity;
  for (let i = 0; i <= k; i++) best = Math.min(best, sorted[n - 1 - (k - i)]! - sorted[i]!);
  return best;
}

test("range without outliers: round(α·n) values pooled over both ends, the split that leaves the smallest range", () => {
  const rng = new Rng(71);
  for (const [n, ratio, k] of [[8, 0, 0], [8, 0.01, 0], [64, 0.01, 1], [64, 0.05, 3], [33, 0.2, 7], [128, 0.01, 1], [2, 0.5, 1]] as const) {
    const meter = new GroupRangeMeter(n, ratio);
    const perSide = k;
    for (let trial = 0; trial < 50; trial++) {
      const values = Float32Array.from({ length: n + 5 }, () => rng.normal() * (rng.next() < 0.1 ? 20 : 1));
      assert.equal(meter.range(values, 5), sortedRange(values, 5, n, perSide), `n ${n} ratio ${ratio}`);
    }
  }
});

test("a constant group (or one left empty by its outliers) has range 0", () => {
  assert.equal(new GroupRangeMeter(4, 0).range(new Float32Array([2, 2, 2, 2]), 0), 0);
  assert.equal(new GroupRangeMeter(2, 0.5).range(new Float32Array([1, 5]), 0), 0);
});
