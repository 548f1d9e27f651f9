import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import type { CacheShape } from "../../src/cache/KVCache.js";
import { BlockqCache } from "../../src/cache/BlockqCache.js";
import { parseKvSpec, type BlockqConfig } from "../../src/cache/spec.js";
import { UnsupportedError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { runAgainstOracle, syntheticKv } from "./attentionHarness.js";
import { blockqStored } from "./storedForm.js";
import { isCacheStorage, trackHeap, type HeapTracker } from "./trackHeap.js";

let compute: Compute;
let tracker: HeapTracker;
before(async () => {
  compute = await Compute.create(2);
  tracker = trackHeap(compute.heap);
});
after(() => compute.dispose());

const blockq = (spec: string) => parseKvSpec(spec) as BlockqConfig;
const SHAPES: CacheShape[] = [
  { nLayers: 2, nKvHeads: 2, headDim: 64, maxTokens: 256 },
  { nLayers: 2, nKvHeads: 4, headDim: 8, maxTokens: 256 }, // heads start inside a block of 32
  { nLayers: 1, nKvHeads: 3, headDim: 32, maxTokens: 256 },
];

for (const spec of ["blockq:q8_0", "blockq:q4_0"]) {
  for (const shape of SHAPES) {
    for (const nRep of [1, 2]) {
      test(`${spec}, nKv=${shape.nKvHeads}, D=${shape.headDim}, nRep=${nRep}: scores and mix equal "dequantize then compute"`, () => {
        const cache = new BlockqCache(compute, shape, blockq(spec));
        const kvDim = shape.nKvHeads * shape.headDim;
        try {
          runAgainstOracle(compute, cache, shape, nRep, [37, 1, 1, 50, 1], (l, part, h) => blockqStored(compute.heap, cache, l, part, h, shape.headDim, kvDim), 8, "int16 chunks");
          assert.equal(cache.nbytes().hot + cache.nbytes().slack, tracker.liveBytes(isCacheStorage));
        } finally {
          cache.dispose();
        }
        assert.equal(tracker.liveBytes(), 0);
      });
    }
  }
}

test("q4_0 holds 18 bytes per 32 values (2 of them the fp16 scale); q8_0 34", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 2, headDim: 64, maxTokens: 64 };
  for (const [format, blockBytes, bits] of [["q4_0", 18, 4], ["q8_0", 34, 8]] as const) {
    const cache = new BlockqCache(compute, shape, { kind: "blockq", format });
    const rng = new Rng(1);
    cache.append(0, 0, 64, syntheticKv(rng, 64, 128, new Float32Array(128)), syntheticKv(rng, 64, 128, new Float32Array(128)));
    const bytes = cache.nbytes();
    const blocks = 2 * 64 * (128 / 32);
    assert.equal(bytes.codes, blocks * (blockBytes - 2));
    assert.equal(bytes.metadata, blocks * 2);
    assert.deepEqual(cache.paperBits().values, { meanBits: bits, outlierFraction: 0 });
    cache.dispose();
  }
});

test("a K/V width that is not whole blocks of 32 is refused up front", () => {
  assert.throws(() => new BlockqCache(compute, { nLayers: 1, nKvHeads: 3, headDim: 20, maxTokens: 8 }, blockq("blockq:q8_0")), UnsupportedError);
});
