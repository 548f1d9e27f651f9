import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import type { CacheShape, QueryBlock } from "../../src/cache/KVCache.js";
import type { ReportingCache } from "../../src/cache/CacheReportView.js";
import { createCache } from "../../src/cache/createCache.js";
import { DenseCache } from "../../src/cache/DenseCache.js";
import { RotatedCache, ROTATION_SEED } from "../../src/cache/RotatedCache.js";
import type { UniformCache } from "../../src/cache/UniformCache.js";
import type { KiviCache } from "../../src/cache/KiviCache.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { hadamardRowsRef } from "../../src/kernels/reference/hadamardRef.js";
import { Rng } from "../../src/util/rng.js";
import { ConfigError } from "../../src/util/errors.js";
import { runAgainstOracle, softmaxRows, syntheticKv } from "./attentionHarness.js";
import { kiviStored, uniformStored, type HeadRows } from "./storedForm.js";
import { isCacheStorage, trackHeap } from "./trackHeap.js";

/**
 * rotate=hadamard (RotatedCache): attention through the rotation equals attention without it on unquantized data
 * (R is orthonormal), and on quantized caches every scores/mix call equals the oracle computed from what the inner
 * cache stores, rotated back by the float64 reference (hadamardRef.ts): q·(Rᵀx^) and Σ p·(Rᵀx^). Odd head counts,
 * odd block lengths, 1 and 2 threads. The rotation adds no stored bytes.
 */
let computes: Compute[];
before(async () => {
  computes = [await Compute.create(1), await Compute.create(2)];
});
after(() => computes.forEach((c) => c.dispose()));

const BLOCKS = [37, 1, 1, 3, 50, 1];
const SHAPES: CacheShape[] = [
  { nLayers: 2, nKvHeads: 3, headDim: 64, maxTokens: 160 },
  { nLayers: 1, nKvHeads: 1, headDim: 16, maxTokens: 160 },
];

for (const shape of SHAPES) {
  test(`fp32 with rotation equals fp32 without, ${shape.nKvHeads} KV heads of ${shape.headDim}, 1 and 2 threads`, () => {
    for (const compute of computes) {
      const plain = new DenseCache(compute, shape, "f32");
      const rotated = new RotatedCache(compute, shape, new DenseCache(compute, shape, "f32"));
      try {
        compareAttention(compute, plain, rotated, shape, 3);
      } finally {
        plain.dispose();
        rotated.dispose();
      }
    }
  });
}

/** Feeds both caches the same blocks and queries; scores and mix outputs must agree to float32 tolerance. */
function compareAttention(compute: Compute, a: ReportingCache, b: ReportingCache, shape: CacheShape, nRep: number): void {
  const { nLayers, nKvHeads, headDim: D } = shape;
  const kvDim = nKvHeads * D;
  const rng = new Rng(7);
  const offsets = Float32Array.from({ length: kvDim }, () => 2 * rng.normal());
  const heap = compute.heap;
  const total = BLOCKS.reduce((s, n) => s + n, 0);
  const maxTok = Math.max(...BLOCKS);
  const regions = ["q", "scores a", "scores b", "out a", "out b"].map((w, i) =>
    heap.alloc(maxTok * nRep * (i === 1 || i === 2 ? total : D) * 4, `test ${w}`),
  );
  try {
    let pos = 0;
    for (const nTok of BLOCKS) {
      const block: QueryBlock = { firstPos: pos, nTok, nRep };
      const nq = nTok * nRep;
      for (let l = 0; l < nLayers; l++) {
        const k = syntheticKv(rng, nTok, kvDim, offsets);
        const v = syntheticKv(rng, nTok, kvDim, new Float32Array(kvDim));
        a.append(l, pos, nTok, k, v);
        b.append(l, pos, nTok, k, v);
        const T = a.storedTokens(l);
        assert.equal(b.storedTokens(l), T);
        for (let h = 0; h < nKvHeads; h++) {
          const q = heap.f32(regions[0]!, 0, nq * D);
          for (let i = 0; i < q.length; i++) q[i] = rng.normal() / Math.sqrt(D);
          const qCopy = q.slice();
          const sa = heap.f32(regions[1]!, 0, nq * T);
          const sb = heap.f32(regions[2]!, 0, nq * T);
          a.scores(l, h, q, block, sa);
          b.scores(l, h, q, block, sb);
          assert.deepEqual(q, qCopy, "the caller's queries are left as they were");
          const scale = Math.max(...sa.map((x) => (Number.isFinite(x) ? Math.abs(x) : 0)));
          for (let i = 0; i < sa.length; i++) {
            if (sa[i] === -Infinity) assert.equal(sb[i], -Infinity, `mask at ${i}`);
            else assert.ok(Math.abs(sa[i]! - sb[i]!) <= 1e-5 * scale + 1e-6, `layer ${l} head ${h} score ${i}: ${sa[i]} vs ${sb[i]}`);
          }
          softmaxRows(sa, nq, T);
          const oa = heap.f32(regions[3]!, 0, nq * D);
          const ob = heap.f32(regions[4]!, 0, nq * D);
          a.mix(l, h, sa, block, oa);
          b.mix(l, h, sa, block, ob);
          const outScale = Math.max(...oa.map(Math.abs));
          for (let i = 0; i < oa.length; i++) {
            assert.ok(Math.abs(oa[i]! - ob[i]!) <= 1e-5 * outScale + 1e-6, `layer ${l} head ${h} output ${i}: ${oa[i]} vs ${ob[i]}`);
          }
        }
      }
      a.endForward(pos, nTok);
      b.endForward(pos, nTok);
      pos += nTok;
    }
  } finally {
    regions.forEach((r) => heap.free(r));
  }
}

/** Stored rows of a rotated cache's inner cache, rotated back to the caller's space by the float64 reference. */
function unrotated(rows: HeadRows, layer: number, head: number, D: number): HeadRows {
  return {
    ...rows,
    rows: rows.rows.map((row) => {
      const x = Float32Array.from(row);
      hadamardRowsRef(x, 1, D, ROTATION_SEED, layer, head, 1, true);
      return Float64Array.from(x);
    }),
  };
}

const QUANTIZED = [
  "uniform:bits=4,rotate=hadamard",
  "uniform:k=3,v=16,group=layer,sinks=2,rotate=hadamard",
  "uniform:k=2,v=5,outliers=0.02,rotate=hadamard",
  "kivi:bits=4,residual=32,rotate=hadamard",
];
for (const spec of QUANTIZED) {
  for (const shape of SHAPES) {
    test(`${spec}, ${shape.nKvHeads} KV heads of ${shape.headDim}: scores and mix equal the reference-rotated oracle, 1 and 2 threads`, () => {
      for (const compute of computes) {
        const tracker = trackHeap(compute.heap);
        const cache = createCache(compute, shape, parseKvSpec(spec));
        assert.ok(cache instanceof RotatedCache);
        try {
          const inner = cache.inner;
          const read = (l: number, part: "keys" | "values", h: number): HeadRows => {
            const stored = spec.startsWith("kivi")
              ? kiviStored(compute.heap, inner as KiviCache, l, part, h)
              : uniformStored(compute.heap, inner as UniformCache, l, part, h);
            return unrotated(stored, l, h, shape.headDim);
          };
          const result = runAgainstOracle(compute, cache, shape, 3, BLOCKS, read, 29, "int16 chunks");
          assert.equal(result.calls, BLOCKS.length * shape.nLayers * shape.nKvHeads);
          const bytes = cache.nbytes();
          assert.equal(bytes.hot + bytes.slack, tracker.liveBytes(isCacheStorage), "nbytes = the bytes the cache holds (scratch apart)");
        } finally {
          cache.dispose();
        }
        assert.equal(tracker.liveBytes(), 0, `leaked: ${JSON.stringify(tracker.live())}`);
      }
    });
  }
}

test("rotation stores nothing: rotated caches hold the bytes of their inner cache and no region of their own", () => {
  const compute = computes[1]!;
  const shape = SHAPES[0]!;
  /** nbytes().hot + slack and the storage regions held, after a 40-token prefill. */
  const measure = (text: string) => {
    const tracker = trackHeap(compute.heap);
    const cache = createCache(compute, shape, parseKvSpec(text));
    try {
      const rng = new Rng(3);
      const kvDim = shape.nKvHeads * shape.headDim;
      for (let l = 0; l < shape.nLayers; l++) {
        cache.append(l, 0, 40, syntheticKv(rng, 40, kvDim, new Float32Array(kvDim)), syntheticKv(rng, 40, kvDim, new Float32Array(kvDim)));
      }
      cache.endForward(0, 40);
      const bytes = cache.nbytes();
      return { reported: bytes.hot + bytes.slack, held: tracker.liveBytes(isCacheStorage) };
    } finally {
      cache.dispose();
    }
  };
  // one width per part: the layout, and so the bytes, do not depend on the values
  for (const spec of ["uniform:bits=3", "uniform:k=2,v=16,sinks=4", "kivi:bits=2"]) {
    const plain = measure(spec);
    const rotated = measure(`${spec},rotate=hadamard`);
    assert.equal(plain.reported, plain.held, spec);
    assert.deepEqual(rotated, plain, `${spec},rotate=hadamard`);
  }
  // QAQ's widths follow the values; what it reports beyond its regions is the same with and without rotation
  const plain = measure("qaq:mode=prompt,outliers=0");
  const rotated = measure("qaq:mode=prompt,rotate=hadamard");
  assert.equal(rotated.reported - rotated.held, plain.reported - plain.held);
});

test("a head size that is not a power of two is refused with a ConfigError naming rotate", () => {
  const shape: CacheShape = { nLayers: 1, nKvHeads: 2, headDim: 20, maxTokens: 16 };
  for (const spec of ["uniform:bits=4,rotate=hadamard", "kivi:bits=2,rotate=hadamard", "qaq:rotate=hadamard"]) {
    assert.throws(() => createCache(computes[0]!, shape, parseKvSpec(spec)), (e: unknown) => e instanceof ConfigError && /rotate/.test(e.message), spec);
  }
});
