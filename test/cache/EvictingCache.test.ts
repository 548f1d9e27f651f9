import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import type { CacheShape } from "../../src/cache/KVCache.js";
import { EvictingCache } from "../../src/cache/EvictingCache.js";
import { parseKvSpec, type H2oConfig, type StreamingConfig } from "../../src/cache/spec.js";
import { runAgainstOracle } from "./attentionHarness.js";
import { evictingStored } from "./storedForm.js";
import { isCacheStorage, trackHeap, type HeapTracker } from "./trackHeap.js";

let compute: Compute;
let tracker: HeapTracker;
before(async () => {
  compute = await Compute.create(2);
  tracker = trackHeap(compute.heap);
});
after(() => compute.dispose());

const evicting = (spec: string) => parseKvSpec(spec) as H2oConfig | StreamingConfig;
const SHAPES: CacheShape[] = [
  { nLayers: 2, nKvHeads: 2, headDim: 64, maxTokens: 256 },
  { nLayers: 1, nKvHeads: 3, headDim: 20, maxTokens: 256 },
];

for (const spec of ["h2o:budget=24,recent=8", "streaming:budget=24,sinks=4", "h2o:budget=30,recent=0"]) {
  for (const shape of SHAPES) {
    for (const nRep of [1, 2]) {
      test(`${spec}, D=${shape.headDim}, nRep=${nRep}: attention over the kept tokens, masked by stored positions`, () => {
        const cache = new EvictingCache(compute, shape, evicting(spec));
        const read = (l: number, part: "keys" | "values", h: number) => evictingStored(compute.heap, cache, l, part, h);
        try {
          // a prefill longer than the budget, decode steps at the budget, and a second long block
          runAgainstOracle(compute, cache, shape, nRep, [37], read, 31);
          for (let l = 0; l < shape.nLayers; l++) assert.equal(cache.storedTokens(l), cache.budget, "trimmed after the block");
          runAgainstOracle(compute, cache, shape, nRep, [1, 1, 1, 50, 1], read, 32);
          for (let l = 0; l < shape.nLayers; l++) {
            assert.equal(cache.storedTokens(l), cache.budget);
            for (let h = 0; h < shape.nKvHeads; h++) {
              const positions = read(l, "keys", h).positions;
              assert.equal(new Set(positions).size, positions.length, "each position kept once");
              assert.ok(positions.every((p) => p >= 0 && p < cache.nextPos));
            }
          }
          assert.equal(cache.nbytes().hot + cache.nbytes().slack, tracker.liveBytes(isCacheStorage));
          const kept = cache.budget / cache.nextPos;
          assert.ok(Math.abs(cache.paperBits().keys.meanBits - 16 * kept) < 1e-12);
        } finally {
          cache.dispose();
        }
        assert.equal(tracker.liveBytes(), 0);
      });
    }
  }
}

/** Appends one token per step to a 1-layer cache; observe() puts all attention of head h on position focus[h]. */
function decodeSteps(cache: EvictingCache, steps: number, focus: number[]): void {
  const shape = { nKvHeads: focus.length, headDim: 4 };
  const kvDim = shape.nKvHeads * shape.headDim;
  const probsRegion = compute.heap.alloc(4 * 256, "test probs");
  for (let pos = 0; pos < steps; pos++) {
    cache.append(0, pos, 1, new Float32Array(kvDim).fill(pos), new Float32Array(kvDim));
    const T = cache.storedTokens(0);
    for (let h = 0; h < focus.length; h++) {
      const probs = compute.heap.f32(probsRegion, 0, T).fill(0);
      const positions = cache.layers[0]!.slots.positions(h);
      for (let t = 0; t < T; t++) if (positions[t] === focus[h]) probs[t] = 1;
      cache.observe(0, h, probs, { firstPos: pos, nTok: 1, nRep: 1 });
    }
    cache.endForward(pos, 1);
  }
  compute.heap.free(probsRegion);
}

function keptPositions(cache: EvictingCache, head: number): number[] {
  const s = cache.layers[0]!;
  return [...s.slots.positions(head).subarray(0, s.count)].sort((a, b) => a - b);
}

test("H2O keeps each head's heavy hitter and the recent window; ties evict the older token", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 2, headDim: 4, maxTokens: 64 };
  const cache = new EvictingCache(compute, shape, evicting("h2o:budget=4,recent=2"));
  // head 0 attends only to position 0, head 1 only to position 5
  decodeSteps(cache, 20, [0, 5]);
  // by hand: the recent window is {18, 19}; head 0's heavy hitter is 0; the last slot goes to the newest of the
  // zero-score tokens (older ones lose ties): 17. Head 1 attends to 5 from step 5 on, so 5 is kept from then.
  assert.deepEqual(keptPositions(cache, 0), [0, 17, 18, 19]);
  assert.deepEqual(keptPositions(cache, 1), [5, 17, 18, 19]);
  cache.dispose();
});

test("StreamingLLM keeps the sinks and the most recent budget − sinks tokens, whatever the attention", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 2, headDim: 4, maxTokens: 64 };
  const cache = new EvictingCache(compute, shape, evicting("streaming:budget=6,sinks=2"));
  decodeSteps(cache, 20, [7, 9]);
  for (const h of [0, 1]) assert.deepEqual(keptPositions(cache, h), [0, 1, 16, 17, 18, 19]);
  cache.dispose();
});

test("truncate drops later positions; every head ends with the same count", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 2, headDim: 4, maxTokens: 64 };
  const cache = new EvictingCache(compute, shape, evicting("h2o:budget=6,recent=2"));
  decodeSteps(cache, 20, [3, 16]);
  assert.deepEqual(keptPositions(cache, 0), [3, 15, 16, 17, 18, 19]);
  assert.deepEqual(keptPositions(cache, 1), [14, 15, 16, 17, 18, 19].map((p) => p));
  cache.truncate(17);
  // head 0 keeps {3, 15, 16}; head 1 keeps {14, 15, 16}: both 3
  assert.equal(cache.storedTokens(0), 3);
  assert.deepEqual(keptPositions(cache, 0), [3, 15, 16]);
  assert.deepEqual(keptPositions(cache, 1), [14, 15, 16]);
  assert.equal(cache.nextPos, 17);
  cache.append(0, 17, 1, new Float32Array(8), new Float32Array(8));
  assert.equal(cache.storedTokens(0), 4);
  cache.dispose();
});
