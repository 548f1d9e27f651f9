import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import type { CacheShape, QueryBlock } from "../../src/cache/KVCache.js";
import type { ReportingCache } from "../../src/cache/CacheReportView.js";
import { createCache } from "../../src/cache/createCache.js";
import { DenseCache } from "../../src/cache/DenseCache.js";
import { CALIBRATION_TOKENS, ChannelSmoothedCache } from "../../src/cache/ChannelSmoothedCache.js";
import { RotatedCache } from "../../src/cache/RotatedCache.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { Rng } from "../../src/util/rng.js";
import { softmaxRows, syntheticKv } from "./attentionHarness.js";
import { isCacheStorage, trackHeap } from "./trackHeap.js";

/**
 * keys=channel (ChannelSmoothedCache): on unquantized data attention equals the plain computation (q·k = (q⊙s)·(k/s)),
 * before and after the hand-over at CALIBRATION_TOKENS; the scales are sqrt(largest |k|) per channel of the calibration
 * tokens; every byte it holds is in nbytes() (the scales as metadata); it never claims an exact rollback.
 */
let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

const SHAPE: CacheShape = { nLayers: 2, nKvHeads: 3, headDim: 16, maxTokens: 128 };
const BLOCKS = [5, 1, 40, 1, 1, 7];

function drive(caches: ReportingCache[], check: (outputs: { scores: Float32Array; out: Float32Array }[], what: string) => void): Float32Array[] {
  const { nLayers, nKvHeads, headDim: D } = SHAPE;
  const kvDim = nKvHeads * D;
  const nRep = 2;
  const rng = new Rng(11);
  // keys with very different channel magnitudes, as real keys have
  const offsets = Float32Array.from({ length: kvDim }, (_, c) => (c % 5 === 0 ? 20 : 1) * rng.normal());
  const heap = compute.heap;
  const allKeys: Float32Array[] = Array.from({ length: nLayers }, () => new Float32Array(0));
  const qRegion = heap.alloc(64 * nRep * D * 4, "test q");
  try {
    let pos = 0;
    for (const nTok of BLOCKS) {
      const block: QueryBlock = { firstPos: pos, nTok, nRep };
      const nq = nTok * nRep;
      for (let l = 0; l < nLayers; l++) {
        const k = syntheticKv(rng, nTok, kvDim, offsets);
        const v = syntheticKv(rng, nTok, kvDim, new Float32Array(kvDim));
        allKeys[l] = Float32Array.from([...allKeys[l]!, ...k]);
        for (const c of caches) c.append(l, pos, nTok, k, v);
        const T = caches[0]!.storedTokens(l);
        for (let h = 0; h < nKvHeads; h++) {
          const q = heap.f32(qRegion, 0, nq * D);
          for (let i = 0; i < q.length; i++) q[i] = rng.normal() / Math.sqrt(D);
          const outputs = caches.map((c) => {
            const sRegion = heap.alloc(nq * T * 4, "test scores");
            const oRegion = heap.alloc(nq * D * 4, "test out");
            const scores = heap.f32(sRegion, 0, nq * T);
            c.scores(l, h, q, block, scores);
            const copy = scores.slice();
            softmaxRows(scores, nq, T);
            const out = heap.f32(oRegion, 0, nq * D);
            c.mix(l, h, scores, block, out);
            const result = { scores: copy, out: out.slice() };
            heap.free(sRegion);
            heap.free(oRegion);
            return result;
          });
          check(outputs, `position ${pos} layer ${l} head ${h}`);
        }
      }
      for (const c of caches) c.endForward(pos, nTok);
      pos += nTok;
    }
  } finally {
    heap.free(qRegion);
  }
  return allKeys;
}

test("keys=channel over fp32 equals fp32: scores and outputs, before and after the calibration hand-over", () => {
  const plain = new DenseCache(compute, SHAPE, "f32");
  const smoothed = new ChannelSmoothedCache(compute, SHAPE, new DenseCache(compute, SHAPE, "f32"));
  try {
    let handedOver = false;
    drive([plain, smoothed], ([a, b], what) => {
      handedOver ||= smoothed.channelScales !== null;
      const scale = Math.max(...a!.scores.map((x) => (Number.isFinite(x) ? Math.abs(x) : 0)));
      const tol = 1e-5;
      a!.scores.forEach((x, i) => {
        if (x === -Infinity) assert.equal(b!.scores[i], -Infinity, what);
        else assert.ok(Math.abs(x - b!.scores[i]!) <= tol * scale + 1e-6, `${what} score ${i}: ${x} vs ${b!.scores[i]}`);
      });
      const outScale = Math.max(...a!.out.map(Math.abs));
      a!.out.forEach((x, i) => assert.ok(Math.abs(x - b!.out[i]!) <= tol * outScale + 1e-6, `${what} output ${i}: ${x} vs ${b!.out[i]}`));
    });
    assert.ok(handedOver, "the calibration ended");
    assert.equal(smoothed.rollback.kind, "none");
  } finally {
    plain.dispose();
    smoothed.dispose();
  }
});

test("the scales are the square roots of the largest |k| per channel of the calibration tokens", () => {
  const smoothed = new ChannelSmoothedCache(compute, SHAPE, new DenseCache(compute, SHAPE, "f32"));
  try {
    const keys = drive([smoothed], () => {});
    const scales = smoothed.channelScales!;
    const calibrated = BLOCKS.slice(0, 3).reduce((a, b) => a + b, 0); // the first endForward at >= 32 positions
    assert.ok(calibrated >= CALIBRATION_TOKENS);
    const kvDim = SHAPE.nKvHeads * SHAPE.headDim;
    for (let l = 0; l < SHAPE.nLayers; l++) {
      for (let c = 0; c < kvDim; c++) {
        let max = 0;
        for (let t = 0; t < calibrated; t++) max = Math.max(max, Math.abs(keys[l]![t * kvDim + c]!));
        assert.ok(Math.abs(scales[l * kvDim + c]! - Math.sqrt(max)) <= 1e-6 * Math.sqrt(max), `layer ${l} channel ${c}: ${scales[l * kvDim + c]} vs sqrt(${max})`);
      }
    }
  } finally {
    smoothed.dispose();
  }
});

test("keys=channel holds exactly what nbytes() reports: the inner cache plus its scales as metadata", () => {
  for (const spec of ["uniform:bits=3,keys=channel", "uniform:k=2,v=16,rotate=hadamard,keys=channel", "qaq:keys=channel"]) {
    const tracker = trackHeap(compute.heap);
    const cache = createCache(compute, { ...SHAPE, headDim: 16 }, parseKvSpec(spec));
    try {
      assert.ok(cache instanceof ChannelSmoothedCache);
      if (spec.includes("rotate")) assert.ok(cache.inner instanceof RotatedCache, "smoothing outside the rotation");
      drive([cache], () => {});
      const bytes = cache.nbytes();
      const plain = cache.inner.nbytes();
      assert.equal(bytes.metadata - plain.metadata, SHAPE.nLayers * SHAPE.nKvHeads * SHAPE.headDim * 4, `${spec}: scales`);
      if (spec.startsWith("uniform")) assert.equal(bytes.hot + bytes.slack, tracker.liveBytes(isCacheStorage), spec);
    } finally {
      cache.dispose();
    }
    assert.equal(tracker.liveBytes(), 0, `${spec} leaked: ${JSON.stringify(tracker.live())}`);
  }
});
