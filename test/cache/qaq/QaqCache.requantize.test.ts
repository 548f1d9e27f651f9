import { test } from "node:test";
import assert from "node:assert/strict";
import { QaqCache } from "../../../src/cache/qaq/QaqCache.js";
import { parseQaqParams } from "../../../src/cache/qaq/qaqSpec.js";
import { PackedGroupStore } from "../../../src/cache/PackedGroupStore.js";
import { WasmHeap } from "../../../src/kernels/WasmHeap.js";
import { createF16Grid } from "../../../src/quant/f16Grid.js";
import type { CacheShape } from "../../../src/cache/KVCache.js";
import { CacheDriver, policyOnlyCompute, spikyAttention } from "./qaqTestSupport.js";

const SHAPE: CacheShape = { nLayers: 2, nKvHeads: 2, headDim: 16, maxTokens: 96 };

/**
 * Every packed group of the cache must hold exactly what a fresh quantization of the token's fp16 values at the
 * group's current width gives (codes, outliers, scale and zero bits): true only if every (re-)quantization started
 * from full precision. The oracle is an independent PackedGroupStore on its own heap.
 */
function assertGroupsAreFresh(cache: QaqCache, driver: CacheDriver): number {
  const heap = cache.keyStore.heap;
  const G = cache.keyStore.groupLength;
  const oracleHeap = WasmHeap.create();
  const oracle = new PackedGroupStore(oracleHeap, G, cache.keyStore.outlierRatio, cache.keyStore.method, "oracle");
  const grid = createF16Grid();
  let checked = 0;
  for (let l = 0; l < SHAPE.nLayers; l++) {
    const layer = cache.layers[l]!;
    for (const part of ["keys", "values"] as const) {
      const source = Float32Array.from(part === "keys" ? driver.keys[l]! : driver.values[l]!);
      const packed = layer[part];
      for (let t = layer.sinkCount; t < layer.firstResident; t++) {
        for (let g = 0; g < layer.groupsPerToken; g++) {
          const bits = packed.bitsOf(t, g);
          const size = oracle.slotBytes(bits);
          const slot = oracleHeap.alloc(size, "oracle slot");
          oracle.writeAt(slot.ptr, source, t * driver.kvDim + g * G, bits, grid);
          const expected = new Uint8Array(oracleHeap.memory.buffer, slot.ptr, size);
          const actual = new Uint8Array(heap.memory.buffer, packed.slotOf(t, g), size);
          const where = `layer ${l} ${part} token ${t} group ${g} at ${bits} bits`;
          assert.deepEqual(actual, expected, `${where}: slot bytes`);
          assert.equal(packed.scaleBitsOf(t, g), grid.scaleBits, `${where}: scale`);
          assert.equal(packed.zeroBitsOf(t, g), grid.zeroBits, `${where}: zero`);
          oracleHeap.free(slot);
          checked++;
        }
      }
    }
  }
  return checked;
}

// token 4 and 9 are attended strongly for a while, then quiet, then strongly again: their value widths rise and fall
const SPIKES = spikyAttention([
  { t: 4, from: 12, to: 14, value: 0.9 },
  { t: 4, from: 24, to: 26, value: 0.8 },
  { t: 9, from: 18, to: 19, value: 0.95 },
  { t: 9, from: 30, to: 40, value: 0.7 },
]);

for (const spec of [
  "backing=memory,group=head,variant=paper",
  "backing=file,group=head,variant=code,sinks=2",
  "backing=memory,group=layer,variant=paper,outliers=0.05",
  "backing=file,group=layer,variant=code,outliers=0",
]) {
  test(`stream ${spec}: re-quantized groups equal a fresh quantization at their width`, () => {
    const compute = policyOnlyCompute();
    const cache = new QaqCache(compute, SHAPE, parseQaqParams(`vTol=0.05,kTol=0.002,min=1,max=8,${spec}`));
    const driver = new CacheDriver(cache, compute, SHAPE, 7);
    // queries grow at position 20: ‖Q‖² rises, and with it the key widths
    const options = { attention: SPIKES, queryScale: (row: number) => (row < 20 ? 1 : 4) };
    driver.step(10, options);
    let checked = assertGroupsAreFresh(cache, driver);
    for (let i = 0; i < 30; i++) {
      driver.step(1, options);
      checked += assertGroupsAreFresh(cache, driver);
    }
    const stats = cache.stats();
    assert.ok(stats.raised > 0 && stats.lowered > 0, `widths must move both ways: ${JSON.stringify(stats)}`);
    assert.equal(stats.backingReads, stats.requantized, "one backing read per re-quantized group, and only for those");
    assert.ok(checked > 1000);
    cache.dispose();
  });
}

test("backing=none: a packed group's width never rises (and the same run with a backing tier does raise)", () => {
  for (const backing of ["none", "memory"] as const) {
    const compute = policyOnlyCompute();
    const cache = new QaqCache(compute, SHAPE, parseQaqParams(`backing=${backing},min=0,max=8`));
    const driver = new CacheDriver(cache, compute, SHAPE, 8);
    const options = { attention: SPIKES, queryScale: (row: number) => (row < 20 ? 1 : 4) };
    const widths = new Map<string, number>();
    let rises = 0;
    for (let i = 0; i < 35; i++) {
      driver.step(i === 0 ? 6 : 1, options);
      for (let l = 0; l < SHAPE.nLayers; l++) {
        const layer = cache.layers[l]!;
        for (const part of ["keys", "values"] as const) {
          for (let m = 0; m < layer.firstResident * layer.groupsPerToken; m++) {
            const key = `${l}/${part}/${m}`;
            const before = widths.get(key);
            const bits = layer[part].bitsOf(Math.floor(m / layer.groupsPerToken), m % layer.groupsPerToken);
            if (before !== undefined && bits !== 15 && before !== 15 && bits > before) rises++;
            widths.set(key, bits);
          }
        }
      }
    }
    const stats = cache.stats();
    if (backing === "none") {
      assert.equal(rises, 0);
      assert.equal(stats.raised, 0);
      assert.ok(stats.lowered > 0, "widths still fall without a backing tier");
      assert.equal(cache.nbytes().backing, 0);
    } else {
      assert.ok(rises > 0 && stats.raised === rises, `expected rises with a backing tier (${rises}, ${stats.raised})`);
      assert.ok(cache.nbytes().backing > 0);
    }
    cache.dispose();
  }
});
