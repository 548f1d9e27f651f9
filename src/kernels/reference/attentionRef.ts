import { f16ToF32 } from "../../quant/fp16.js";

/**
 * References for attention over a full-precision cache, in float64. The cache storage is a Float32Array (f32
 * elements) or a Uint16Array (f16 bits); element e of it is read as `cacheValue(storage, e)`.
 */
export type CacheStorage = Float32Array | Uint16Array;

export function cacheValue(storage: CacheStorage, element: number): number {
  return storage instanceof Uint16Array ? f16ToF32(storage[element]!) : storage[element]!;
}

/** out[i·T + t] = q_i · k_t; q: [nq, headDim]; key t at element t·kStride of k; out: [nq, T]. */
export function attnScoresRef(q: Float32Array, k: CacheStorage, out: Float32Array, nq: number, headDim: number, kStride: number, T: number): void {
  for (let i = 0; i < nq; i++) {
    for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let d = 0; d < headDim; d++) sum += q[i * headDim + d]! * cacheValue(k, t * kStride + d);
      out[i * T + t] = sum;
    }
  }
}

/** out[i·headDim + d] = Σ_t p[i·T + t]·v_t[d]; p: [nq, T]; value t at element t·vStride of v; out: [nq, headDim]. */
export function attnMixRef(p: Float32Array, v: CacheStorage, out: Float32Array, nq: number, headDim: number, vStride: number, T: number): void {
  for (let i = 0; i < nq; i++) {
    for (let d = 0; d < headDim; d++) {
      let sum = 0;
      for (let t = 0; t < T; t++) sum += p[i * T + t]! * cacheValue(v, t * vStride + d);
      out[i * headDim + d] = sum;
    }
  }
}
