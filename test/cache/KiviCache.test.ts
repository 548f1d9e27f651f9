import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import type { CacheShape } from "../../src/cache/KVCache.js";
import { KiviCache } from "../../src/cache/KiviCache.js";
import { parseKvSpec, type KiviConfig } from "../../src/cache/spec.js";
import { f16ToF32, f32ToF16 } from "../../src/quant/fp16.js";
import { Rng } from "../../src/util/rng.js";
import { runAgainstOracle, syntheticKv } from "./attentionHarness.js";
import { kiviStored } from "./storedForm.js";
import { isCacheStorage, trackHeap, type HeapTracker } from "./trackHeap.js";

let compute: Compute;
let tracker: HeapTracker;
before(async () => {
  compute = await Compute.create(2);
  tracker = trackHeap(compute.heap);
});
after(() => compute.dispose());

const kivi = (spec: string) => parseKvSpec(spec) as KiviConfig;
const SHAPES: CacheShape[] = [
  { nLayers: 2, nKvHeads: 2, headDim: 64, maxTokens: 256 },
  { nLayers: 2, nKvHeads: 3, headDim: 20, maxTokens: 256 },
];
const SCENARIOS: Array<[string, number[]]> = [
  ["kivi:bits=2,residual=16", [37, 1, 1, 1, 50, 1]], // flushes inside a block and at decode
  ["kivi:bits=4", [150, 1, 1, 40, 1]],
];

for (const [spec, blocks] of SCENARIOS) {
  for (const shape of SHAPES) {
    for (const nRep of [1, 2]) {
      test(`${spec}, D=${shape.headDim}, nRep=${nRep}: scores and mix equal "dequantize then compute"`, () => {
        const cache = new KiviCache(compute, shape, kivi(spec));
        try {
          runAgainstOracle(compute, cache, shape, nRep, blocks, (l, part, h) => kiviStored(compute.heap, cache, l, part, h), 23, "int16 chunks");
          assert.equal(cache.nbytes().hot + cache.nbytes().slack, tracker.liveBytes(isCacheStorage), "nbytes = bytes the cache allocated");
        } finally {
          cache.dispose();
        }
        assert.equal(tracker.liveBytes(), 0, `leaked: ${JSON.stringify(tracker.live())}`);
      });
    }
  }
}

test("past its residual the cache holds packed blocks and at most R+31 fp16 tokens", () => {
  const shape: CacheShape = { nLayers: 2, nKvHeads: 2, headDim: 32, maxTokens: 512 };
  const cache = new KiviCache(compute, shape, kivi("kivi:bits=2"));
  const rng = new Rng(4);
  const kvDim = 64;
  for (let pos = 0; pos < 300; pos++) {
    for (let l = 0; l < 2; l++) cache.append(l, pos, 1, syntheticKv(rng, 1, kvDim, new Float32Array(kvDim)), syntheticKv(rng, 1, kvDim, new Float32Array(kvDim)));
    for (const s of cache.layers) {
      assert.ok(s.residual <= 128 + 31, `residual ${s.residual}`);
      assert.equal(s.quantized % 32, 0);
      if (pos + 1 >= 160) assert.ok(s.residual >= 128);
    }
  }
  for (const s of cache.layers) {
    assert.equal(s.quantized, 160); // 300 = 160 quantized + 140 residual (flushes at 160 and 192, ..., 288)
    assert.equal(s.keyBlocks.blocks, 5);
    for (let t = 0; t < 300; t++) {
      // residual tokens have empty value groups (width nibble 15: no slot)
      for (let h = 0; h < 2; h++) assert.equal(s.values.bitsOf(t, h), t < 160 ? 2 : 15, `value group of token ${t}`);
    }
  }
  assert.equal(cache.keyArena.liveSlots(cache.layers[0]!.keyBlocks.blockBytes), 2 * 2 * 5);
  const bytes = cache.nbytes();
  // key block: 32 tokens × 8 code bytes + 32 fp16 scales + 32 fp16 zeros per head; values: 8 code bytes per group
  assert.equal(bytes.codes, (2 * 2 * 160 * kvDim * 2) / 8, "2-bit codes of 160 tokens' keys and values, 2 layers");
  assert.equal(bytes.residual, 2 * 2 * 140 * kvDim * 2, "fp16 keys and values of 140 residual tokens, 2 layers");
  assert.equal(bytes.hot + bytes.slack, tracker.liveBytes(isCacheStorage));
  const bits = cache.paperBits().keys;
  assert.ok(Math.abs(bits.meanBits - (160 * 2 + 140 * 16) / 300) < 1e-12);
  cache.dispose();
});

test("truncate inside a quantized block keeps the kept tokens as their dequantized values", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 2, headDim: 16, maxTokens: 256 };
  const cache = new KiviCache(compute, shape, kivi("kivi:bits=2,residual=16"));
  runAgainstOracle(compute, cache, shape, 1, [90], (l, part, h) => kiviStored(compute.heap, cache, l, part, h), 3, "int16 chunks");
  const s = cache.layers[0]!;
  assert.deepEqual([s.quantized, s.residual], [64, 26]);
  const before = [0, 1].map((h) => ({ keys: kiviStored(compute.heap, cache, 0, "keys", h), values: kiviStored(compute.heap, cache, 0, "values", h) }));
  cache.truncate(45);
  assert.deepEqual([s.quantized, s.residual, cache.storedTokens(0), cache.nextPos], [32, 13, 45, 45]);
  for (let h = 0; h < 2; h++) {
    for (const part of ["keys", "values"] as const) {
      const now = kiviStored(compute.heap, cache, 0, part, h).rows;
      assert.equal(now.length, 45);
      for (let t = 0; t < 45; t++) {
        const was = before[h]![part].rows[t]!;
        // tokens 0..31 stay in their block; 32..44 come back to the residual, rounded to fp16
        const want = t < 32 ? [...was] : [...was].map((x) => f16ToF32(f32ToF16(x)));
        assert.deepEqual([...now[t]!], want, `${part} head ${h} token ${t}`);
      }
    }
  }
  // the cache keeps working from there
  runAgainstOracle(compute, cache, shape, 2, [1, 30, 1], (l, part, h) => kiviStored(compute.heap, cache, l, part, h), 4, "int16 chunks");
  cache.reset();
  assert.equal(cache.storedTokens(0), 0);
  assert.equal(cache.keyArena.liveSlots(s.keyBlocks.blockBytes), 0);
  cache.dispose();
});
