import { test } from "node:test";
import assert from "node:assert/strict";
import { allocateBits, FULL_PRECISION_BITS, type BitPolicy, type TokenEvidence } from "../../../src/cache/qaq/bitAllocator.js";
import { budgetBytes, fitToleranceScale } from "../../../src/cache/qaq/budget.js";
import { Rng } from "../../../src/util/rng.js";
import { randomEvidence } from "./randomEvidence.js";

const D = 64;
/** per group: u32 slot + u8 bits + f16 scale + f16 zero, as in the packed layout */
const METADATA_BYTES = 9;

/** A cache of `units` allocation units whose bytes follow the allocator: packed codes + metadata, sinks in fp16. */
function syntheticCache(seed: number, units: number, T: number): (scale: number) => number {
  const rng = new Rng(seed);
  const evidence: TokenEvidence[] = Array.from({ length: units }, () => randomEvidence(rng, T));
  const policy: BitPolicy = { minBits: 1, maxBits: 8, variant: "paper", sinkTokens: 2 };
  const key = new Uint8Array(T);
  const value = new Uint8Array(T);
  return (scale: number) => {
    let bytes = 0;
    for (const e of evidence) {
      allocateBits(policy, { key: 0.002 * scale, value: 0.05 * scale }, T, 2, e, { key, value });
      for (let t = 0; t < T; t++) {
        for (const bits of [key[t]!, value[t]!]) bytes += bits === FULL_PRECISION_BITS ? 2 * D : Math.ceil((D * bits) / 8) + METADATA_BYTES;
      }
    }
    return bytes;
  };
}

test("budget: the fit lands within the budget and is within 1% of the tightest scale that does", () => {
  const bytesFor = syntheticCache(51, 8, 300);
  const cheapest = bytesFor(Infinity);
  const dearest = bytesFor(0);
  for (const share of [0.05, 0.2, 0.5, 0.8, 0.95]) {
    const limit = cheapest + share * (dearest - cheapest);
    for (const start of [1e-3, 1, 1e4]) {
      const fit = fitToleranceScale(limit, bytesFor, start);
      assert.ok(fit.bytes <= limit, `share ${share}: ${fit.bytes} > ${limit}`);
      assert.equal(fit.bytes, bytesFor(fit.scale));
      // a scale 1% smaller no longer fits (else the search stopped short of the boundary)
      assert.ok(bytesFor(fit.scale / 1.0101) > limit, `share ${share} start ${start}: scale ${fit.scale} not tight`);
    }
  }
});

test("budget: b_max everywhere fits -> scale 0; b_min everywhere does not -> the cheapest, marked unmet", () => {
  const bytesFor = syntheticCache(52, 2, 50);
  const dearest = bytesFor(0);
  assert.deepEqual(fitToleranceScale(dearest + 10, bytesFor, 1), { scale: 0, bytes: dearest, met: true });
  const cheapest = bytesFor(Infinity);
  assert.deepEqual(fitToleranceScale(cheapest - 1, bytesFor, 1), { scale: Infinity, bytes: cheapest, met: false });
  assert.deepEqual(fitToleranceScale(cheapest, bytesFor, 1).bytes <= cheapest, true);
});

test("budget bytes: absolute, or fp16 bytes over the ratio", () => {
  assert.equal(budgetBytes({ kind: "bytes", bytes: 32e6 }, 1e9), 32e6);
  // fp16 bytes 1000, ratio 8 -> 125
  assert.equal(budgetBytes({ kind: "ratio", ratio: 8 }, 1000), 125);
});
