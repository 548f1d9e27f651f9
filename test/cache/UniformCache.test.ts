import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import type { CacheShape } from "../../src/cache/KVCache.js";
import { UniformCache } from "../../src/cache/UniformCache.js";
import { QuantizedPart } from "../../src/cache/uniformParts.js";
import { parseKvSpec, type UniformConfig } from "../../src/cache/spec.js";
import { f16ToF32, f32ToF16 } from "../../src/quant/fp16.js";
import { Rng } from "../../src/util/rng.js";
import { runAgainstOracle, syntheticKv } from "./attentionHarness.js";
import { readPackedToken, uniformStored } from "./storedForm.js";
import { isCacheStorage, trackHeap, type HeapTracker } from "./trackHeap.js";

let compute: Compute;
let tracker: HeapTracker;
before(async () => {
  compute = await Compute.create(2);
  tracker = trackHeap(compute.heap);
});
after(() => compute.dispose());

function uniform(spec: string): UniformConfig {
  return parseKvSpec(spec) as UniformConfig;
}

// prefill blocks, single-token decode steps, a second block: every call checked against the oracle
const BLOCKS = [37, 1, 1, 1, 50, 1];
const SPECS = [
  "uniform:bits=8",
  "uniform:k=4,v=2,outliers=0.02,sinks=3",
  "uniform:k=3,v=16,group=layer,outliers=0.01,method=meanclip",
  "uniform:k=0,v=5,group=layer,sinks=2",
  "uniform:k=16,v=1,outliers=0.05",
];
const SHAPES: CacheShape[] = [
  { nLayers: 2, nKvHeads: 2, headDim: 64, maxTokens: 256 },
  { nLayers: 2, nKvHeads: 3, headDim: 20, maxTokens: 256 }, // odd sizes: unaligned element offsets, scalar paths
];

for (const spec of SPECS) {
  for (const shape of SHAPES) {
    for (const nRep of [1, 2]) {
      test(`${spec}, D=${shape.headDim}, nRep=${nRep}: scores and mix equal "dequantize then compute"`, () => {
        const cache = new UniformCache(compute, shape, uniform(spec));
        try {
          const result = runAgainstOracle(compute, cache, shape, nRep, BLOCKS, (l, part, h) => uniformStored(compute.heap, cache, l, part, h), 17, "int16 chunks");
          assert.equal(result.calls, BLOCKS.length * shape.nLayers * shape.nKvHeads);
          const bytes = cache.nbytes();
          assert.equal(bytes.hot + bytes.slack, tracker.liveBytes(isCacheStorage), "hot + slack = bytes the cache allocated");
          assert.ok(bytes.slack >= 0);
        } finally {
          cache.dispose();
        }
        assert.equal(tracker.liveBytes(), 0, `leaked: ${JSON.stringify(tracker.live())}`);
      });
    }
  }
}

test("stored values are the appended ones within half a grid step; outliers and sinks exact to fp16", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 2, headDim: 32, maxTokens: 64 };
  const cache = new UniformCache(compute, shape, uniform("uniform:bits=3,outliers=0.1,sinks=2"));
  const kvDim = 64;
  const rng = new Rng(5);
  const keys = syntheticKv(rng, 20, kvDim, new Float32Array(kvDim).fill(1));
  cache.append(0, 0, 20, keys, syntheticKv(rng, 20, kvDim, new Float32Array(kvDim)));
  const part = cache.layers[0]!.keys as QuantizedPart;
  for (let t = 0; t < 20; t++) {
    for (let h = 0; h < 2; h++) {
      const original = keys.subarray(t * kvDim + h * 32, t * kvDim + (h + 1) * 32);
      const stored = uniformStored(compute.heap, cache, 0, "keys", h).rows[t]!;
      const exact = original.map((x) => f16ToF32(f32ToF16(x)));
      if (t < 2) {
        assert.deepEqual([...stored], [...exact], "sink token kept in fp16");
        continue;
      }
      const scale = f16ToF32(part.packed.scaleBitsOf(t, h));
      // round(0.1·32) = 3 pooled outliers: the i lowest and 3 − i highest for the i leaving the smallest range
      const order = [...original.keys()].sort((a, b) => original[a]! - original[b]! || a - b);
      let lowCount = 0;
      for (let i = 1; i <= 3; i++) {
        const range = (k: number) => original[order[31 - (3 - k)]!]! - original[order[k]!]!;
        if (range(i) < range(lowCount)) lowCount = i;
      }
      const outliers = new Set([...order.slice(0, lowCount), ...order.slice(32 - (3 - lowCount))]);
      for (let d = 0; d < 32; d++) {
        if (outliers.has(d)) assert.equal(stored[d], exact[d]);
        else assert.ok(Math.abs(stored[d]! - original[d]!) <= scale / 2 + 1e-6, `t ${t} h ${h} d ${d}`);
      }
      assert.equal(part.packed.bitsOf(t, h), 3);
    }
  }
  assert.deepEqual([...readPackedToken(compute.heap, part.packed, 0, 0)], new Array(32).fill(0), "sink ledger entries are empty");
  cache.dispose();
});

test("2-bit codes take 1/8 of the fp16 bytes of the same tokens; memory tiers add up", () => {
  const shape: CacheShape = { nLayers: 2, nKvHeads: 2, headDim: 64, maxTokens: 2048 };
  const cache = new UniformCache(compute, shape, uniform("uniform:bits=2,group=layer"));
  const kvDim = 128;
  const rng = new Rng(9);
  const tokens = 2000;
  for (let pos = 0; pos < tokens; pos += 250) {
    for (let l = 0; l < 2; l++) cache.append(l, pos, 250, syntheticKv(rng, 250, kvDim, new Float32Array(kvDim)), syntheticKv(rng, 250, kvDim, new Float32Array(kvDim)));
  }
  const bytes = cache.nbytes();
  const fp16Bytes = tokens * shape.nLayers * 2 * kvDim * 2;
  const ratio = bytes.codes / fp16Bytes;
  assert.ok(ratio >= 1 / 8 && ratio < 1.05 / 8, `code bytes / fp16 bytes = ${ratio}`);
  assert.equal(bytes.outliers, 0);
  assert.equal(bytes.residual, 0);
  // per layer and part one sequence: a 4-bit width, f16 scale and f16 zero per group of the 2000 live groups and one
  // u32 block pointer per 256 groups (8); the arrays are allocated for 2016 groups (2000 rounded up to 32), the
  // room for 16 more is slack
  assert.equal(bytes.metadata, 2 * shape.nLayers * (2000 / 2 + 2 * 2000 + 2 * 2000 + 4 * 8));
  assert.equal(bytes.slack, 2 * shape.nLayers * (16 / 2 + 2 * 16 + 2 * 16));
  assert.equal(bytes.hot + bytes.slack, tracker.liveBytes(isCacheStorage));
  // the paper's count: 2 bits per value, nothing else
  assert.deepEqual(cache.paperBits().keys, { meanBits: 2, outlierFraction: 0 });
  cache.dispose();
});

test("paper bits count sinks at 16 and the outlier fraction per group", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 1, headDim: 64, maxTokens: 64 };
  const cache = new UniformCache(compute, shape, uniform("uniform:k=4,v=16,outliers=0.01,sinks=2"));
  const rng = new Rng(1);
  cache.append(0, 0, 10, syntheticKv(rng, 10, 64, new Float32Array(64)), syntheticKv(rng, 10, 64, new Float32Array(64)));
  const bits = cache.paperBits();
  // 2 sink tokens at 16 bits, 8 tokens at 4 bits; outliers: round(0.01·64) = 1 in each of the 8 quantized groups of 64
  assert.equal(bits.keys.meanBits, (2 * 16 + 8 * 4) / 10);
  assert.equal(bits.keys.outlierFraction, 8 / (10 * 64));
  assert.deepEqual(bits.values, { meanBits: 16, outlierFraction: 0 });
  cache.dispose();
});

test("truncate drops tokens and gives their slot bytes back; reset empties the cache", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 2, headDim: 16, maxTokens: 128 };
  const cache = new UniformCache(compute, shape, uniform("uniform:bits=4,outliers=0.1"));
  const rng = new Rng(2);
  cache.append(0, 0, 40, syntheticKv(rng, 40, 32, new Float32Array(32)), syntheticKv(rng, 40, 32, new Float32Array(32)));
  // per group of 16 values at 4 bits: 8 code bytes; round(1.6) = 2 outliers of an f16 value and a u8 position
  const held = (groups: number) => ({ codes: 2 * groups * 8, outliers: 2 * groups * 6 });
  const tiers = () => ({ codes: cache.nbytes().codes, outliers: cache.nbytes().outliers });
  assert.deepEqual(tiers(), held(80));
  cache.truncate(25);
  assert.equal(cache.storedTokens(0), 25);
  assert.equal(cache.nextPos, 25);
  assert.deepEqual(tiers(), held(50));
  cache.append(0, 25, 5, syntheticKv(rng, 5, 32, new Float32Array(32)), syntheticKv(rng, 5, 32, new Float32Array(32)));
  assert.deepEqual(tiers(), held(60));
  assert.equal(cache.nbytes().hot + cache.nbytes().slack, tracker.liveBytes(isCacheStorage));
  cache.reset();
  assert.equal(cache.storedTokens(0), 0);
  assert.deepEqual(tiers(), held(0));
  assert.throws(() => cache.append(0, 3, 1, new Float32Array(32), new Float32Array(32)), /position 3/);
  cache.dispose();
});
