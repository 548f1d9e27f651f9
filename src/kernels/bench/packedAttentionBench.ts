import { fileURLToPath } from "node:url";
import { Compute } from "../Compute.js";
import type { Region, WasmHeap } from "../WasmHeap.js";
import { median, emit } from "../../bench/timing.js";
import { f32ToF16 } from "../../quant/fp16.js";

/**
 * Decode-step attention of one KV head (nq query rows, T cached tokens, head size D): scores + mix on an f32 cache
 * (attn_scores_f32 + attn_mix_f32) against the same on packed storage of `bits` bits per value (attn_scores_packed +
 * attn_mix_packed, group=head, no outliers). Tokens split over the compute's threads as the caches do (grain 16).
 *
 * `copies` independent caches are cycled through, one per call: with copies·8·T·D bytes of f32 well above the last
 * level cache (32 MiB here) every call streams from DRAM, as it does when a model has many layers; copies = 1 keeps
 * one head hot in cache (the kernels' compute speed).
 *
 * Run directly (`node dist/src/kernels/bench/packedAttentionBench.js`) it prints one JSON line per configuration.
 */
export interface PackedAttentionTimes {
  /** f32 scores + mix, milliseconds per decode step (median) */
  readonly f32Ms: number;
  /** packed scores + mix */
  readonly packedMs: number;
  readonly f32ScoresMs: number;
  readonly f32MixMs: number;
  readonly packedScoresMs: number;
  readonly packedMixMs: number;
}

/** Heap buffers of one benchmark copy: kernel arguments after (q|p, out, nq, D, T). */
interface CacheCopy {
  readonly keysF32: number;
  readonly valuesF32: number;
  /** slot, bits, scale, zero, metaStride, metaIndex, elemOffset, groupLen, nOut */
  readonly keysPacked: number[];
  readonly valuesPacked: number[];
}

const MIN_ROUNDS = 9;
const MAX_ROUNDS = 2000;
const TARGET_MS = 1000;

export function benchPackedAttention(compute: Compute, T: number, D: number, bits: number, nq = 8, copies = 1): PackedAttentionTimes {
  const heap = compute.heap;
  const regions: Region[] = [];
  const alloc = (bytes: number, what: string): Region => {
    const region = heap.alloc(bytes, what);
    regions.push(region);
    return region;
  };
  try {
    let seed = 12345;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const q = alloc(nq * D * 4, "bench q");
    heap.f32(q).forEach((_, k, a) => (a[k] = random() - 0.5));
    const p = alloc(nq * T * 4, "bench p");
    heap.f32(p).forEach((_, k, a) => (a[k] = random() / T));
    const scores = alloc(nq * T * 4, "bench scores");
    const out = alloc(nq * D * 4, "bench out");
    const mixScratch = alloc(compute.kernels.mix_scratch_bytes(nq, D), "bench mix scratch");
    const caches = Array.from({ length: copies }, () => buildCopy(heap, alloc, T, D, bits, random));

    // the four kernels run in turn within each round, so a noisy (shared) machine slows them alike
    const kernels: ReadonlyArray<(c: CacheCopy) => void> = [
      (c) => compute.parallel("attn_scores_f32", T, [q.ptr, c.keysF32, scores.ptr, nq, D, D, T], 16),
      (c) => compute.parallel("attn_mix_f32", D, [p.ptr, c.valuesF32, out.ptr, nq, D, D, T], 16),
      (c) => compute.parallel("attn_scores_packed", T, [q.ptr, scores.ptr, nq, D, T, ...c.keysPacked], 16),
      (c) => compute.parallel("attn_mix_packed", D, [p.ptr, mixScratch.ptr, out.ptr, nq, D, T, ...c.valuesPacked], 16),
    ];
    const samples = kernels.map((): number[] => []);
    for (const run of kernels) run(caches[0]!); // warm-up (and JIT)
    const start = performance.now();
    for (let round = 0; round < MIN_ROUNDS || (performance.now() - start < TARGET_MS && round < MAX_ROUNDS); round++) {
      const copy = caches[round % copies]!;
      kernels.forEach((run, k) => {
        const t0 = performance.now();
        run(copy);
        samples[k]!.push(performance.now() - t0);
      });
    }
    const [f32ScoresMs, f32MixMs, packedScoresMs, packedMixMs] = samples.map((times) => median(times)) as [number, number, number, number];
    return {
      f32Ms: f32ScoresMs + f32MixMs,
      packedMs: packedScoresMs + packedMixMs,
      f32ScoresMs,
      f32MixMs,
      packedScoresMs,
      packedMixMs,
    };
  } finally {
    for (const region of regions) heap.free(region);
  }
}

/** One KV head's keys and values, f32 [T, D] and packed (random codes, every group `bits` wide). */
function buildCopy(heap: WasmHeap, alloc: (bytes: number, what: string) => Region, T: number, D: number, bits: number, random: () => number): CacheCopy {
  const f32Part = (): number => {
    const region = alloc(T * D * 4, "bench f32 part");
    heap.f32(region).forEach((_, k, a) => (a[k] = random() - 0.5));
    return region.ptr;
  };
  const packedPart = (): number[] => {
    // slots: [D·bits/8 code bytes] back to back; metadata: slot u32 [T], bits u8 [T], scale/zero f16 [T]
    const slotBytes = Math.ceil((D * bits) / 8);
    const slab = alloc(T * slotBytes + 1, "bench packed slots");
    const slot = alloc(4 * T, "bench slot pointers");
    const width = alloc(T, "bench widths");
    const scale = alloc(2 * T, "bench scales");
    const zero = alloc(2 * T, "bench zeros");
    heap.u8(slab).forEach((_, k, a) => (a[k] = (random() * 256) | 0));
    const slots = new Uint32Array(heap.memory.buffer, slot.ptr, T);
    for (let t = 0; t < T; t++) slots[t] = slab.ptr + t * slotBytes;
    heap.u8(width).fill(bits);
    heap.u16(scale).fill(f32ToF16(1 / 2 ** bits));
    heap.u16(zero).fill(f32ToF16(-0.5));
    return [slot.ptr, width.ptr, scale.ptr, zero.ptr, 1, 0, 0, D, 0];
  };
  return { keysF32: f32Part(), valuesF32: f32Part(), keysPacked: packedPart(), valuesPacked: packedPart() };
}

/** Prints the table of the report: T 1K/8K/32K, D 64, nq 8, 2/4/8 bits, 1 and 2 threads, hot and streaming. */
async function main(): Promise<void> {
  const D = 64;
  const nq = 8;
  for (const threads of [1, 2]) {
    const compute = await Compute.create(threads);
    try {
      for (const T of [1024, 8192, 32768]) {
        for (const bits of [2, 4, 8]) {
          for (const copies of [1, Math.ceil((96 * 2 ** 20) / (8 * T * D))]) {
            const times = benchPackedAttention(compute, T, D, bits, nq, copies);
            const round = (x: number): number => Math.round(x * 1000) / 1000;
            emit({
              bench: "packedAttention", threads, T, D, nq, bits, copies,
              f32Ms: round(times.f32Ms), packedMs: round(times.packedMs), speedup: round(times.f32Ms / times.packedMs),
              f32ScoresMs: round(times.f32ScoresMs), f32MixMs: round(times.f32MixMs),
              packedScoresMs: round(times.packedScoresMs), packedMixMs: round(times.packedMixMs),
            });
          }
        }
      }
    } finally {
      compute.dispose();
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
