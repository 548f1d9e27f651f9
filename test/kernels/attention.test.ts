import { test, before, after } from "node:test";
import { Compute } from "../../src/kernels/Compute.js";
import { attnScoresRef, attnMixRef, cacheValue, type CacheStorage } from "../../src/kernels/reference/attentionRef.js";
import {
  createRng, randomFloats, randomHalvesWithSubnormals, toHeap, heapF32, runSerialAndParallel, assertWithin, F32_RELATIVE,
} from "./kernelTestSupport.js";

// Attention over f32 and f16 caches against the float64 references (src/kernels/reference/attentionRef.ts). The cache
// holds N_KV heads per token (stride N_KV·headDim) and the kernels read head 1, as the engine does; f16 caches include
// subnormals. Query counts 1, 2, 3, 5 cover the f16 kernels' 4-, 2- and 1-query blocks. Tolerance: F32_RELATIVE x
// Σ|terms| of each sum.

let compute: Compute;
before(async () => {
  compute = await Compute.create(2);
});
after(() => compute.dispose());

const N_KV = 3;
const HEAD = 1;
const QUERIES = [1, 2, 3, 5];
const HEAD_DIMS = [6, 8, 64, 72];
const TOKENS = [1, 7, 100];

function randomCache(kind: "f32" | "f16", rng: () => number, n: number): CacheStorage {
  return kind === "f32" ? randomFloats(rng, n) : randomHalvesWithSubnormals(rng, n);
}

for (const kind of ["f32", "f16"] as const) {
  const elementBytes = kind === "f32" ? 4 : 2;

  test(`attn_scores_${kind} matches the reference`, () => {
    const heap = compute.heap;
    for (const nq of QUERIES) {
      for (const headDim of HEAD_DIMS) {
        for (const T of TOKENS) {
          const rng = createRng(nq * 100000 + headDim * 1000 + T);
          const stride = N_KV * headDim;
          const q = randomFloats(rng, nq * headDim);
          const cache = randomCache(kind, rng, T * stride);
          const head = cache.subarray(HEAD * headDim);
          const expected = new Float32Array(nq * T);
          attnScoresRef(q, head, expected, nq, headDim, stride, T);
          const magnitude = new Float64Array(nq * T);
          for (let i = 0; i < nq; i++) {
            for (let t = 0; t < T; t++) {
              for (let d = 0; d < headDim; d++) magnitude[i * T + t] += Math.abs(q[i * headDim + d]! * cacheValue(head, t * stride + d));
            }
          }
          const out = heapF32(heap, nq * T, "out");
          const k = toHeap(heap, cache, "k") + HEAD * headDim * elementBytes;
          runSerialAndParallel(compute, `attn_scores_${kind}`, T, [toHeap(heap, q, "q"), k, out.ptr, nq, headDim, stride, T],
            () => out.view.fill(NaN),
            (mode) => assertWithin(out.view, expected, (i) => F32_RELATIVE * magnitude[i]!, `attn_scores_${kind} nq ${nq} D ${headDim} T ${T} ${mode}`));
        }
      }
    }
  });

  test(`attn_mix_${kind} matches the reference`, () => {
    const heap = compute.heap;
    for (const nq of QUERIES) {
      for (const headDim of HEAD_DIMS) {
        for (const T of TOKENS) {
          const rng = createRng(nq * 100000 + headDim * 1000 + T + 7);
          const stride = N_KV * headDim;
          // probability-like rows: non-negative, some exact zeros (masked positions), summing to 1
          const p = Float32Array.from({ length: nq * T }, () => (rng() < 0.2 ? 0 : rng()));
          for (let i = 0; i < nq; i++) {
            const row = p.subarray(i * T, (i + 1) * T);
            const sum = row.reduce((s, v) => s + v, 0) || 1;
            row.forEach((v, t) => (row[t] = v / sum));
          }
          const cache = randomCache(kind, rng, T * stride);
          const head = cache.subarray(HEAD * headDim);
          const expected = new Float32Array(nq * headDim);
          attnMixRef(p, head, expected, nq, headDim, stride, T);
          const magnitude = new Float64Array(nq * headDim);
          for (let i = 0; i < nq; i++) {
            for (let d = 0; d < headDim; d++) {
              for (let t = 0; t < T; t++) magnitude[i * headDim + d] += Math.abs(p[i * T + t]! * cacheValue(head, t * stride + d));
            }
          }
          const out = heapF32(heap, nq * headDim, "out");
          const v = toHeap(heap, cache, "v") + HEAD * headDim * elementBytes;
          runSerialAndParallel(compute, `attn_mix_${kind}`, headDim, [toHeap(heap, p, "p"), v, out.ptr, nq, headDim, stride, T],
            () => out.view.fill(NaN),
            (mode) => assertWithin(out.view, expected, (i) => F32_RELATIVE * magnitude[i]!, `attn_mix_${kind} nq ${nq} D ${headDim} T ${T} ${mode}`));
        }
      }
    }
  });
}
