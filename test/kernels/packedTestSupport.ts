import assert from "node:assert/strict";
import type { WasmHeap, Region } from "../../src/kernels/WasmHeap.js";
import { createRandom } from "../quant/seededRandom.js";

/**
 * Helpers shared by the packed / KIVI / blockq attention tests: seeded Gaussian data, heap placement, the dense
 * "dequantize everything, then compute" oracles, and comparisons scaled by the magnitude of each sum.
 */

export { createRandom };

/**
 * Tolerance of the wasm kernels against the float64 references, relative to the magnitude Σ|terms| of each sum:
 * f32 arithmetic (mix, the float paths) stays near 1e-6 of it. The score kernels' integer path adds the rounding of
 * the query to int16, bounded separately by queryRoundingBound. A wrong code, width, scale or outlier moves a sum by
 * far more (≥ 1e-2 of its magnitude).
 */
export const KERNEL_RELATIVE = 1e-4;

/**
 * The integer score paths compute Σ_d q_d·w_d as step·Σ_d qi_d·w_d with qi = nearest(q/step), step = max|q|/32767
 * and integer weights w (centred codes, or q8/q4 values): the error is at most step/2·Σ_d |w_d| times the factor that
 * turns w into values. `mass` is that Σ_d |value weight| (e.g. scale·Σ|c - mid|); 1% slack covers f32 rounding of step.
 */
export function queryRoundingBound(q: Float32Array, row: number, D: number, mass: number): number {
  let peak = 0;
  for (let d = 0; d < D; d++) peak = Math.max(peak, Math.abs(q[row * D + d]!));
  return 1.01 * (peak / 32767 / 2) * mass;
}

/** References and oracles are both float64 sums of the same decoded f32 values: they agree to rounding. */
export const ORACLE_RELATIVE = 1e-9;

/** n samples of N(0, sigma²) (Box-Muller on a seeded generator). */
export function gaussianFloats(random: () => number, n: number, sigma = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random())) * sigma;
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < n) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** Attention-like weights [nq, T]: each row a softmax of Gaussian logits. */
export function softmaxRows(random: () => number, nq: number, T: number): Float32Array {
  const logits = gaussianFloats(random, nq * T, 2);
  const out = new Float32Array(nq * T);
  for (let i = 0; i < nq; i++) {
    let sum = 0;
    for (let t = 0; t < T; t++) sum += Math.exp(logits[i * T + t]!);
    for (let t = 0; t < T; t++) out[i * T + t] = Math.exp(logits[i * T + t]!) / sum;
  }
  return out;
}

/** Heap regions of one test, freed together. */
export class HeapScope {
  private readonly regions: Region[] = [];
  constructor(readonly heap: WasmHeap) {}

  alloc(bytes: number, what: string): Region {
    const region = this.heap.alloc(bytes, what);
    this.regions.push(region);
    return region;
  }

  /** A heap copy of `data`: its pointer and an f32 view of it. */
  floats(data: Float32Array, what: string): { ptr: number; view: Float32Array } {
    const region = this.alloc(data.byteLength, what);
    const view = this.heap.f32(region, 0, data.length);
    view.set(data);
    return { ptr: region.ptr, view };
  }

  /** The whole heap as bytes (views taken before a later grow stay valid: the memory is shared). */
  bytes(): Uint8Array {
    return new Uint8Array(this.heap.memory.buffer);
  }

  dispose(): void {
    for (const region of this.regions.splice(0)) this.heap.free(region);
  }
}

/**
 * Oracle scores from a dense value matrix: out[i·T + t] = Σ_d q[i·D + d]·values[t·rowStride + offset + d], and the
 * magnitudes Σ_d |q·x| the tolerances scale with.
 */
export function denseScores(
  q: Float32Array, values: Float32Array, rowStride: number, offset: number, nq: number, D: number, T: number,
): { scores: Float64Array; magnitudes: Float64Array } {
  const scores = new Float64Array(nq * T);
  const magnitudes = new Float64Array(nq * T);
  for (let i = 0; i < nq; i++) {
    for (let t = 0; t < T; t++) {
      let sum = 0;
      let size = 0;
      for (let d = 0; d < D; d++) {
        const term = q[i * D + d]! * values[t * rowStride + offset + d]!;
        sum += term;
        size += Math.abs(term);
      }
      scores[i * T + t] = sum;
      magnitudes[i * T + t] = size;
    }
  }
  return { scores, magnitudes };
}

/** Oracle mix: out[i·D + d] = Σ_t p[i·T + t]·values[t·rowStride + offset + d], with magnitudes Σ_t |p·x|. */
export function denseMix(
  p: Float32Array, values: Float32Array, rowStride: number, offset: number, nq: number, D: number, T: number,
): { mix: Float64Array; magnitudes: Float64Array } {
  const mix = new Float64Array(nq * D);
  const magnitudes = new Float64Array(nq * D);
  for (let i = 0; i < nq; i++) {
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        const term = p[i * T + t]! * values[t * rowStride + offset + d]!;
        mix[i * D + d] += term;
        magnitudes[i * D + d] += Math.abs(term);
      }
    }
  }
  return { mix, magnitudes };
}

/** allowed[k] = relative·magnitudes[k] (+ extra(k)), the per-element tolerance of assertWithinAllowed. */
export function tolerances(magnitudes: ArrayLike<number>, relative: number, extra: (k: number) => number = () => 0): Float64Array {
  return Float64Array.from({ length: magnitudes.length }, (_, k) => relative * magnitudes[k]! + extra(k) + 1e-30);
}

/**
 * Asserts |actual[k] - expected[k]| ≤ allowed[k] for the indices k where `inside(k)` holds; the message names the
 * case and the first failing element.
 */
export function assertWithinAllowed(
  actual: ArrayLike<number>, expected: ArrayLike<number>, allowed: ArrayLike<number>, what: string,
  inside: (k: number) => boolean = () => true,
): void {
  for (let k = 0; k < expected.length; k++) {
    if (!inside(k)) continue;
    const error = Math.abs(actual[k]! - expected[k]!);
    if (!(error <= allowed[k]!)) {
      assert.fail(`${what}: element ${k}: got ${actual[k]}, expected ${expected[k]} (error ${error.toExponential(2)} > ${allowed[k]!.toExponential(2)})`);
    }
  }
}
