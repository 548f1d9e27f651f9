import { test } from "node:test";
import assert from "node:assert/strict";
import { PooledOutlierPicker, pooledOutlierCount } from "../../src/quant/pooledOutliers.js";
import { Rng } from "../../src/util/rng.js";

test("pooledOutlierCount: round(α·n), no forced minimum, 0 for α = 0, at most n − 1", () => {
  const cases: Array<[number, number, number]> = [[64, 0.01, 1], [8, 0.01, 0], [64, 0, 0], [128, 0.01, 1], [256, 0.01, 3], [32, 0.1, 3], [2, 0.5, 1], [1, 0.5, 0]];
  for (const [n, ratio, expected] of cases) assert.equal(pooledOutlierCount(n, ratio), expected, `n ${n}, α ${ratio}`);
});

test("the picked outliers are the k values whose removal leaves the smallest range (checked against every subset)", () => {
  const rng = new Rng(9);
  for (let trial = 0; trial < 200; trial++) {
    const n = 4 + Math.floor(rng.next() * 6);
    const k = 1 + Math.floor(rng.next() * 2);
    const values = Float32Array.from({ length: n }, () => Math.round(rng.normal() * 8) / 4);
    const positions = new Uint8Array(k);
    new PooledOutlierPicker(k).select(values, 0, n, positions, new Uint16Array(k));
    const rangeWithout = (drop: Set<number>) => {
      const rest = [...values].filter((_, i) => !drop.has(i));
      return Math.max(...rest) - Math.min(...rest);
    };
    let best = Infinity;
    for (let mask = 0; mask < 1 << n; mask++) {
      const drop = new Set([...Array(n).keys()].filter((i) => (mask >> i) & 1));
      if (drop.size === k) best = Math.min(best, rangeWithout(drop));
    }
    assert.equal(rangeWithout(new Set(positions)), best, `values ${[...values]}`);
    assert.deepEqual([...positions], [...positions].sort((a, b) => a - b), "ascending");
  }
});
