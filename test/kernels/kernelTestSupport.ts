import assert from "node:assert/strict";
import type { Compute } from "../../src/kernels/Compute.js";
import type { KernelExports } from "../../src/kernels/kernelExports.js";
import type { RowKernel } from "../../src/kernels/ThreadPool.js";
import type { WasmHeap } from "../../src/kernels/WasmHeap.js";
import { f32ToF16 } from "../../src/quant/fp16.js";

/** Shared helpers of the kernel tests: seeded random data, placing arrays in the wasm heap, comparisons. */

/** A seeded uniform generator on [0, 1) (mulberry32), so every run sees the same data. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** n uniform floats in [-scale, scale). */
export function randomFloats(rng: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (2 * rng() - 1) * scale);
}

/** n f16 bit patterns of uniform values in [-scale, scale), about 1 in 8 replaced by a random subnormal. */
export function randomHalvesWithSubnormals(rng: () => number, n: number, scale = 1): Uint16Array {
  return Uint16Array.from({ length: n }, () => {
    if (rng() < 0.125) return (1 + Math.floor(rng() * 0x3ff)) | (rng() < 0.5 ? 0x8000 : 0);
    return f32ToF16((2 * rng() - 1) * scale);
  });
}

/** A copy of `data` in a new heap region; returns its pointer. */
export function toHeap(heap: WasmHeap, data: Float32Array | Uint16Array | Uint8Array, what: string): number {
  const region = heap.alloc(data.byteLength, what);
  heap.u8(region).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return region.ptr;
}

/** A heap-resident f32 array of n elements: its pointer and a view. */
export function heapF32(heap: WasmHeap, n: number, what: string): { ptr: number; view: Float32Array } {
  const region = heap.alloc(n * 4, what);
  return { ptr: region.ptr, view: heap.f32(region, 0, n) };
}

/**
 * Runs kernel `name` over [0, rows) three ways: serially on the main thread; as three uneven slices called last
 * slice first (an in-place kernel that strays outside its [begin, end) would process rows twice); and split across
 * the pool's threads. `prepare` runs before each (reset outputs / in-place inputs), `check(mode)` after it.
 */
export function runSerialAndParallel(
  compute: Compute,
  name: keyof KernelExports,
  rows: number,
  args: readonly number[],
  prepare: () => void,
  check: (mode: string) => void,
): void {
  const kernel = compute.kernels[name] as unknown as RowKernel;
  prepare();
  kernel(0, rows, ...args);
  check("serial");
  const cuts = [0, Math.floor(rows / 3), Math.floor((2 * rows) / 3) + 1, rows].map((c) => Math.min(c, rows));
  prepare();
  for (let s = cuts.length - 2; s >= 0; s--) if (cuts[s]! < cuts[s + 1]!) kernel(cuts[s]!, cuts[s + 1]!, ...args);
  check(`slices ${cuts.join("/")}`);
  prepare();
  compute.parallel(name, rows, args);
  check(`${compute.threads} threads`);
}

/**
 * Asserts |actual[i] - expected[i]| <= tolerance(i) for every i (NaN expected requires NaN); the message names the
 * first failing element.
 */
export function assertWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: (i: number) => number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const got = actual[i]!;
    const want = expected[i]!;
    if (Number.isNaN(want)) {
      assert.ok(Number.isNaN(got), `${what}[${i}]: got ${got}, expected NaN`);
      continue;
    }
    const err = Math.abs(got - want);
    if (!(err <= tolerance(i))) {
      assert.fail(`${what}[${i}]: got ${got}, expected ${want} (error ${err.toExponential(2)} > ${tolerance(i).toExponential(2)})`);
    }
  }
}

/** Relative tolerance of f32 kernel paths, against the magnitude Σ|terms| of each sum. */
export const F32_RELATIVE = 1e-5;
