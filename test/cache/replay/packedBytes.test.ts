/**
 * Exact memory figures of the packed caches on student64's real K/V (head size 64), past the model's 512-token
 * context (student64Replay.ts: 4096 recorded tokens replayed into caches created with maxTokens 4096):
 *   - uniform at b bits without outliers: at most b + 0.6 bits per value, b = 1..8;
 *   - QAQ at its defaults: nbytes().hot within 2% of what its live tokens need, counted here from the layout's
 *     definition (docs/ARCHITECTURE.md, byte table) and the cache's width map, after a 2048-token prefill and after
 *     2048 decode steps during which widths change.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../../src/kernels/Compute.js";
import { QaqCache } from "../../../src/cache/qaq/QaqCache.js";
import { HELD_BINS, QueryNormQuantile } from "../../../src/cache/qaq/QueryNormQuantile.js";
import { SKIP_SHARED } from "../../support/paths.js";
import { isCacheStorage, trackHeap, type HeapTracker } from "../trackHeap.js";
import { recordStudent64, replay, replayCache, type RecordedRun } from "./student64Replay.js";

const TOKENS = 4096;
let compute: Compute;
let run: RecordedRun;
let heap: HeapTracker;

before(async () => {
  if (SKIP_SHARED) return;
  run = await recordStudent64(TOKENS);
  compute = await Compute.create(1);
  heap = trackHeap(compute.heap);
});
after(() => compute?.dispose());

/** K and V values of `tokens` tokens over all layers. */
function valuesOf(tokens: number): number {
  return tokens * run.nLayers * 2 * run.nKvHeads * run.headDim;
}

test("uniform at b bits, no outliers, 4096 tokens of head size 64: at most b + 0.6 bits per value", { skip: SKIP_SHARED }, () => {
  for (let b = 1; b <= 8; b++) {
    const cache = replayCache(compute, run, `uniform:bits=${b}`, TOKENS);
    try {
      for (let first = 0; first < TOKENS; first += 512) {
        for (let l = 0; l < run.nLayers; l++) {
          const kvDim = run.nKvHeads * run.headDim;
          cache.append(l, first, 512, run.keys[l]!.subarray(first * kvDim, (first + 512) * kvDim), run.values[l]!.subarray(first * kvDim, (first + 512) * kvDim));
        }
        cache.endForward(first, 512);
      }
      const bits = (8 * cache.nbytes().hot) / valuesOf(TOKENS);
      // per group of 64 values: 8b code bits + 4 width bits + 32 bits of f16 scale and zero, plus one u32 per 256
      // groups: b + 0.5664 bits per value
      assert.ok(bits <= b + 0.6, `uniform:bits=${b}: ${bits} bits per value`);
      assert.ok(Math.abs(bits - (b + 36 / 64 + 32 / 256 / 64)) < 1e-9, `uniform:bits=${b}: ${bits} bits per value, not the layout's`);
    } finally {
      cache.dispose();
    }
  }
});

/**
 * What the live tokens of a QAQ cache need, from its width map: a packed group of width b needs its codes
 * ceil(G·b/8), its outliers (nOut × (f16 value + u8 position)) and 4.5 bytes (4-bit width, f16 scale, f16 zero);
 * a token held in fp16 (sink or young tail) 2 bytes per value; every (token, window unit) its window state (n ring
 * bytes, a running max, an observation count); every group its range (f16); plus the query-norm histograms as held.
 */
function needed(cache: QaqCache): number {
  const G = cache.keyStore.groupLength;
  const nOut = cache.keyStore.nOut;
  let bytes = 0;
  for (const layer of cache.widthMap()) {
    for (const groups of [layer.keys, layer.values]) {
      for (const widths of groups) {
        for (const b of widths) bytes += (b === 16 ? 2 * G : Math.ceil((G * b) / 8) + 3 * nOut + 4.5) + 2;
      }
    }
  }
  const units = cache.group === "head" ? run.nLayers * run.nKvHeads : run.nLayers;
  bytes += units * cache.storedTokens(0) * (cache.config.window + 2);
  return bytes + (cache as unknown as { norms: { byteLength: number } }).norms.byteLength;
}

/** Bytes a QAQ cache holds: its heap regions (packed blocks, metadata arrays, fp16 rows) and its policy's JS arrays. */
function held(cache: QaqCache, heapBefore: number): number {
  const regions = heap.liveBytes((what) => isCacheStorage(what) && !what.startsWith("replay ")) - heapBefore;
  const policy = cache as unknown as { window: { byteLength: number }; norms: { byteLength: number } };
  const ranges = cache.layers.reduce((sum, layer) => sum + layer.rangeAllocatedBytes(), 0);
  return regions + policy.window.byteLength + policy.norms.byteLength + ranges;
}

/** Slack of one packed sequence of `count` groups: metadata arrays allocated for the count rounded up to 32. */
function sequenceRoom(count: number): number {
  const capacity = 32 * Math.ceil(count / 32);
  const need = (n: number) => Math.ceil(n / 2) + 4 * n + 4 * Math.ceil(n / 256);
  return need(capacity) - need(count);
}

test("QAQ defaults on student64: hot bytes within 2% of what the live tokens need, after a 2048-token prefill and 2048 decode steps", { skip: SKIP_SHARED }, () => {
  const heapBefore = heap.liveBytes((what) => isCacheStorage(what) && !what.startsWith("replay "));
  const cache = replayCache(compute, run, "qaq", TOKENS) as QaqCache;
  try {
    replay(compute, run, cache, 0, 2048);
    const check = (when: string) => {
      const bytes = cache.nbytes();
      const hot = bytes.hot;
      const need = needed(cache);
      assert.ok(hot >= need && hot <= 1.02 * need, `${when}: hot ${hot} vs needed ${need} (${((hot / need - 1) * 100).toFixed(2)}%)`);
      // everything held is hot or slack; the room beyond the live tokens (arrays grown by 32 tokens) is the slack
      const T = cache.storedTokens(0);
      const room = 32 * Math.ceil(T / 32) - T;
      // a sequence per (layer, part, group) and a window unit per (layer, group); student64 is GQA: group=auto is layer
      assert.equal(cache.group, "layer");
      const groups = run.nLayers;
      const sequences = 2 * groups;
      const windowUnits = groups;
      const slack = sequences * (sequenceRoom(T) + 2 * room) + windowUnits * room * (cache.config.window + 2);
      assert.equal(bytes.slack, slack, `${when}: slack`);
      assert.equal(hot + bytes.slack, held(cache, heapBefore), `${when}: hot + slack vs held`);
      return { hot, need };
    };
    const afterPrefill = check("after the 2048-token prefill");
    const before = cache.stats();
    for (let pos = 2048; pos < TOKENS; pos++) {
      replay(compute, run, cache, pos, pos + 1);
      if (pos + 1 === 3000) check("at 3000 tokens (room for 8 more in every array)");
    }
    const stats = cache.stats();
    assert.ok(stats.requantized - before.requantized > 100, `widths changed during decode: ${stats.requantized - before.requantized} re-quantizations`);
    const afterDecode = check("after 2048 decode steps");
    process.stdout.write(`# QAQ student64 bytes: ${JSON.stringify({ afterPrefill, afterDecode, requantized: stats.requantized })}\n`);
  } finally {
    cache.dispose();
  }
});

test("student64's query norms: the 0.9-quantile of ‖q‖² lies in the sketch's held window (within 16x of the largest), so it is exact to one bin", { skip: SKIP_SHARED }, () => {
  for (let l = 0; l < run.nLayers; l++) {
    for (let h = 0; h < run.nKvHeads; h++) {
      const q = run.queries[l]![h]!;
      const rows = q.length / run.headDim;
      const sketch = new QueryNormQuantile(1, 1, 0.9);
      const norms = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let d = 0; d < run.headDim; d++) sum += q[r * run.headDim + d]! ** 2;
        norms[r] = sum;
        sketch.observeNormSq(0, 0, sum);
      }
      norms.sort();
      const exact = norms[Math.ceil(0.9 * rows) - 1]!;
      const largest = norms[rows - 1]!;
      assert.ok(largest / exact < 2 ** ((HELD_BINS - 1) / 16), `layer ${l} head ${h}: largest ${largest} is ${(largest / exact).toFixed(1)}x the 0.9-quantile`);
      assert.ok(Math.abs(sketch.estimate(0, 0) / exact - 1) < 2 ** (1 / 16) - 1, `layer ${l} head ${h}: ${sketch.estimate(0, 0)} vs ${exact}`);
      process.stdout.write(`# student64 layer ${l} KV head ${h}: max/q90 of ‖q‖² = ${(largest / exact).toFixed(2)}\n`);
    }
  }
});

test("QAQ prompt mode: after the prompt, later tokens sit in fp16 with no ranges or window state; hot + slack is what it holds", { skip: SKIP_SHARED }, () => {
  const heapBefore = heap.liveBytes((what) => isCacheStorage(what) && !what.startsWith("replay "));
  const cache = replayCache(compute, run, "qaq:mode=prompt", 1024) as QaqCache;
  try {
    replay(compute, run, cache, 0, 500);
    for (let pos = 500; pos < 530; pos++) replay(compute, run, cache, pos, pos + 1);
    const bytes = cache.nbytes();
    assert.equal(bytes.hot + bytes.slack, held(cache, heapBefore));
    assert.ok(bytes.slack >= 0, `slack ${bytes.slack}`);
    // ranges only for the 500 prompt tokens (an f16 per part and group, one group per token and layer)
    const ranges = cache.layers.reduce((sum, layer) => sum + layer.rangeBytes(), 0);
    assert.equal(ranges, run.nLayers * 2 * 2 * 500);
    // the 30 later tokens in fp16: K and V of every layer
    assert.equal(bytes.residual, 30 * run.nLayers * 2 * run.nKvHeads * run.headDim * 2);
  } finally {
    cache.dispose();
  }
});
