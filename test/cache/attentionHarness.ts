/**
 * Runs a cache the way the forward pass does (per layer: append, then per KV head scores -> softmax -> observe ->
 * mix; endForward after every block) on synthetic keys, values and queries, and holds every scores/mix call to the
 * test oracle: attention computed in float64 from the stored tokens as storedForm.ts decodes them, with the causal
 * mask from their stored positions.
 *
 * Tolerance (float32 kernels against a float64 oracle over the same stored values):
 *   scores: |got − want| ≤ REL·Σ_d |q_d·x^_t,d| + 2^-15·max_d|q_d|·span_t + ABS
 *   mix:    |got − want| ≤ REL·Σ_t p_t·(|x^_t,d| + 2·max_d' |x^_t,d'|) + ABS
 *           (the packed mix kernel sums Σ p·base and Σ p·scale·c apart, base = zero + scale/2 the lowest level of the
 *           token's grid, so float32 rounding scales with |base| + |c·scale| ≤ |x^| + 2|base|, and |base| is at
 *           most the row's largest |x^| because the group minimum reconstructs to it)
 *           + for "int16 chunks" (the blockq mix rounds p·d to int16 against the largest |p·d| of each chunk of 256
 *           tokens: step s, error ≤ s/2·|c| per token ≤ max_{t' in chunk} p_t'·reach_t'/65534, reach_t = the largest
 *           |d·c| the row's blocks allow, HeadRows.codeScales): Σ_chunks len·2^-15·max_{t in chunk} p_t·reach_t,
 *           twice that bound
 * with REL = 1e-4, ABS = 1e-6; a masked logit must be exactly −Infinity. span_t bounds Σ_d |c'_d·step_d| of the
 * stored row (storedForm.ts): the packed scores kernels round each query row to int16 (step max|q|/32767, error
 * ≤ step/2 per element), which moves a logit by up to step/2·span_t; 2^-15·max|q| is twice that.
 */
import assert from "node:assert/strict";
import type { Compute } from "../../src/kernels/Compute.js";
import type { CacheShape, KVCache, QueryBlock } from "../../src/cache/KVCache.js";
import { Rng } from "../../src/util/rng.js";
import type { HeadRows, Part } from "./storedForm.js";

export const REL = 1e-4;
export const ABS = 1e-6;

export type StoredReader = (layer: number, part: Part, head: number) => HeadRows;

/** [nTok, nKvHeads·D] values like real K/V: per-channel offsets, unit noise, and about 1% large outliers. */
export function syntheticKv(rng: Rng, nTok: number, kvDim: number, channelOffset: Float32Array): Float32Array {
  const out = new Float32Array(nTok * kvDim);
  for (let t = 0; t < nTok; t++) {
    for (let c = 0; c < kvDim; c++) {
      let x = channelOffset[c]! + rng.normal();
      if (rng.next() < 0.01) x *= 10 + 20 * rng.next();
      out[t * kvDim + c] = x;
    }
  }
  return out;
}

/** How the cache's mix treats the probabilities: exactly (f32), or rounded to int16 per chunk of 256 tokens. */
export type MixRounding = "exact" | "int16 chunks";
const MIX_CHUNK = 256;

export interface HarnessResult {
  /** largest |got − want| / (REL·magnitude + ABS) seen: ≤ 1 passes */
  readonly worstScores: number;
  readonly worstMix: number;
  readonly calls: number;
}

/** Feeds blocks of `blocks[i]` tokens through every layer of `cache` and checks every call against the oracle. */
export function runAgainstOracle(
  compute: Compute,
  cache: KVCache,
  shape: CacheShape,
  nRep: number,
  blocks: readonly number[],
  read: StoredReader,
  seed: number,
  mixRounding: MixRounding = "exact",
): HarnessResult {
  const { nLayers, nKvHeads, headDim: D } = shape;
  const kvDim = nKvHeads * D;
  const rng = new Rng(seed);
  const offsets = Float32Array.from({ length: kvDim }, () => 2 * rng.normal());
  const maxTok = Math.max(...blocks);
  const total = blocks.reduce((a, b) => a + b, cache.nextPos);
  const heap = compute.heap;
  const qRegion = heap.alloc(maxTok * nRep * D * 4, "test queries");
  const sRegion = heap.alloc(maxTok * nRep * total * 4, "test scores");
  const oRegion = heap.alloc(maxTok * nRep * D * 4, "test outputs");
  let worstScores = 0;
  let worstMix = 0;
  let calls = 0;
  try {
    let pos = cache.nextPos;
    for (const nTok of blocks) {
      const block: QueryBlock = { firstPos: pos, nTok, nRep };
      const nq = nTok * nRep;
      for (let l = 0; l < nLayers; l++) {
        cache.append(l, pos, nTok, syntheticKv(rng, nTok, kvDim, offsets), syntheticKv(rng, nTok, kvDim, new Float32Array(kvDim)));
        const T = cache.storedTokens(l);
        for (let g = 0; g < nKvHeads; g++) {
          const q = heap.f32(qRegion, 0, nq * D);
          for (let i = 0; i < q.length; i++) q[i] = rng.normal() / Math.sqrt(D);
          const scores = heap.f32(sRegion, 0, nq * T);
          cache.scores(l, g, q, block, scores);
          const keys = read(l, "keys", g);
          assert.equal(keys.rows.length, T, "stored key rows");
          worstScores = Math.max(worstScores, checkScores(q, scores, keys, block, D));
          softmaxRows(scores, nq, T);
          cache.observe(l, g, scores, block);
          const out = heap.f32(oRegion, 0, nq * D);
          cache.mix(l, g, scores, block, out);
          worstMix = Math.max(worstMix, checkMix(scores, out, read(l, "values", g), nq, D, mixRounding));
          calls++;
        }
      }
      cache.endForward(pos, nTok);
      pos += nTok;
    }
  } finally {
    heap.free(qRegion);
    heap.free(sRegion);
    heap.free(oRegion);
  }
  return { worstScores, worstMix, calls };
}

function checkScores(q: Float32Array, scores: Float32Array, keys: HeadRows, block: QueryBlock, D: number): number {
  const T = keys.rows.length;
  let worst = 0;
  for (let tok = 0; tok < block.nTok; tok++) {
    for (let rep = 0; rep < block.nRep; rep++) {
      const row = tok * block.nRep + rep;
      for (let t = 0; t < T; t++) {
        const got = scores[row * T + t]!;
        if (keys.positions[t]! > block.firstPos + tok) {
          assert.equal(got, -Infinity, `row ${row} token ${t} (position ${keys.positions[t]}) must be masked`);
          continue;
        }
        let want = 0;
        let magnitude = 0;
        let qMax = 0;
        for (let d = 0; d < D; d++) {
          want += q[row * D + d]! * keys.rows[t]![d]!;
          magnitude += Math.abs(q[row * D + d]! * keys.rows[t]![d]!);
          qMax = Math.max(qMax, Math.abs(q[row * D + d]!));
        }
        const err = Math.abs(got - want) / (REL * magnitude + 2 ** -15 * qMax * keys.intSpans[t]! + ABS);
        if (!(err <= 1)) assert.fail(`scores row ${row} token ${t}: got ${got}, oracle ${want} (magnitude ${magnitude})`);
        worst = Math.max(worst, err);
      }
    }
  }
  return worst;
}

function checkMix(probs: Float32Array, out: Float32Array, values: HeadRows, nq: number, D: number, mixRounding: MixRounding): number {
  const T = values.rows.length;
  const rowMax = values.rows.map((row) => row.reduce((m, x) => Math.max(m, Math.abs(x)), 0));
  let worst = 0;
  for (let i = 0; i < nq; i++) {
    let rounding = 0;
    for (let t0 = 0; mixRounding === "int16 chunks" && t0 < T; t0 += MIX_CHUNK) {
      let peak = 0;
      for (let t = t0; t < Math.min(T, t0 + MIX_CHUNK); t++) peak = Math.max(peak, probs[i * T + t]! * values.codeScales![t]!);
      rounding += (Math.min(T, t0 + MIX_CHUNK) - t0) * 2 ** -15 * peak;
    }
    for (let d = 0; d < D; d++) {
      let want = 0;
      let magnitude = 0;
      for (let t = 0; t < T; t++) {
        want += probs[i * T + t]! * values.rows[t]![d]!;
        magnitude += probs[i * T + t]! * (Math.abs(values.rows[t]![d]!) + 2 * rowMax[t]!);
      }
      const got = out[i * D + d]!;
      const err = Math.abs(got - want) / (REL * magnitude + rounding + ABS);
      if (!(err <= 1)) assert.fail(`mix row ${i} dim ${d}: got ${got}, oracle ${want} (magnitude ${magnitude})`);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

/** Softmax of each row in float64, written back as float32 (−Infinity -> 0). */
export function softmaxRows(x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(x[r * cols + c]! - max);
    for (let c = 0; c < cols; c++) x[r * cols + c] = Math.exp(x[r * cols + c]! - max) / sum;
  }
}
