import { test } from "node:test";
import assert from "node:assert/strict";
import { GroupRangeMeter } from "../../../src/cache/qaq/GroupRangeMeter.js";
import { outlierCountPerSide } from "../../../src/quant/outliers.js";
import { Rng } from "../../../src/util/rng.js";

/** Independent: sort the group, drop k from each end, range of the rest. */
function sortedRange(values: Float32Array, offset: number, n: number, perSide: number): number {
  const sorted = [...values.subarray(offset, offset + n)].sort((a, b) => a - b);
  const kept = sorted.slice(perSide, n - perSide);
  return kept.length === 0 ? 0 : kept[kept.length - 1]! - kept[0]!;
}

test("range without outliers equals the range of the sorted group minus its k lowest and k highest", () => {
  const rng = new Rng(71);
  for (const [n, ratio] of [[8, 0], [8, 0.01], [64, 0.05], [33, 0.2], [128, 0.01], [2, 0.5]] as const) {
    const meter = new GroupRangeMeter(n, ratio);
    const perSide = outlierCountPerSide(n, ratio);
    for (let trial = 0; trial < 50; trial++) {
      const values = Float32Array.from({ length: n + 5 }, () => rng.normal() * (rng.next() < 0.1 ? 20 : 1));
      assert.equal(meter.range(values, 5), sortedRange(values, 5, n, perSide), `n ${n} ratio ${ratio}`);
    }
  }
});

test("a constant group (or one left empty by its outliers) has range 0", () => {
  assert.equal(new GroupRangeMeter(4, 0).range(new Float32Array([2, 2, 2, 2]), 0), 0);
  assert.equal(new GroupRangeMeter(2, 1).range(new Float32Array([1, 5]), 0), 0);
});
