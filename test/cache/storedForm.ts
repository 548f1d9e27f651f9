/**
 * The test-side oracle's first half: what each cache holds, decoded straight from its heap bytes with the src/quant
 * functions (never through the cache's kernels), as float64 rows [T, D] per (layer, part, KV head). The second half
 * (attentionOracle.ts) computes attention from these rows; the caches' packed kernels must agree with it.
 * Slot layouts are re-derived here from the packed-layout note, not taken from the cache code.
 */
import type { WasmHeap } from "../../src/kernels/WasmHeap.js";
import { packedByteLength, readCode } from "../../src/quant/bitpack.js";
import { f16ToF32 } from "../../src/quant/fp16.js";
import { reconstructCode } from "../../src/quant/uniform.js";
import { dequantizeRowQ4_0, dequantizeRowQ8_0 } from "../../src/format/gguf/blockQuant.js";
import type { F16Rows } from "../../src/cache/F16Rows.js";
import type { PackedPart } from "../../src/cache/PackedPart.js";
import { EMPTY_WIDTH } from "../../src/cache/PackedGroupStore.js";
import { packedHeadValuesRef } from "../../src/kernels/reference/packedAttentionRef.js";
import type { UniformCache } from "../../src/cache/UniformCache.js";
import { Fp16Part, QuantizedPart } from "../../src/cache/uniformParts.js";
import type { KiviCache } from "../../src/cache/KiviCache.js";
import type { BlockqCache } from "../../src/cache/BlockqCache.js";
import type { EvictingCache } from "../../src/cache/EvictingCache.js";

export type Part = "keys" | "values";

/**
 * Rows [T, D] of one KV head, the position of each row, and per row a bound on Σ_d |c'_d·step_d|: the integer codes
 * (centred on the grid's midpoint) times their step, which is what a kernel's int16 query rounding multiplies
 * (0 for fp16 rows, which the kernels read exactly).
 */
export interface HeadRows {
  readonly rows: Float64Array[];
  readonly positions: number[];
  readonly intSpans: number[];
  /** blockq rows: per row the largest |d·c| any code of the head's blocks could reach (the mix's int16 rounding) */
  readonly codeScales?: number[];
}

/** Bound of the centred code sum of a packed group: every |c − 2^(b−1)| ≤ 2^(b−1) (at least 1 for b = 0). */
function packedSpan(part: PackedPart, t: number, head: number): number {
  const g = part.groupsPerToken === 1 ? 0 : head;
  const bits = part.bitsOf(t, g);
  if (bits === EMPTY_WIDTH) return 0;
  return part.headDim * Math.max(1, 2 ** (bits - 1)) * f16ToF32(part.scaleBitsOf(t, g));
}

/** The largest |scale·c| a packed group's codes can reach, for any width (c ≤ 255): the mix's int16 rounding weight. */
function packedReach(part: PackedPart, t: number, head: number): number {
  return 255 * Math.abs(f16ToF32(part.scaleBitsOf(t, part.groupsPerToken === 1 ? 0 : head)));
}

/** Row `row` of head `head` of fp16 rows. */
export function readF16Row(heap: WasmHeap, rows: F16Rows, head: number, row: number): Float64Array {
  const bits = new Uint16Array(heap.memory.buffer, rows.rowPtr(head, row), rows.headDim);
  return Float64Array.from(bits, (b) => f16ToF32(b));
}

/** Token t of a packed part, KV head `head`, decoded by the kernels' reference (the layout read literally). */
export function readPackedToken(heap: WasmHeap, part: PackedPart, t: number, head: number): Float64Array {
  const out = new Float64Array(part.headDim);
  packedHeadValuesRef(new Uint8Array(heap.memory.buffer), part.layout(head), part.headDim, t, out);
  return out;
}

export function uniformStored(heap: WasmHeap, cache: UniformCache, layer: number, part: Part, head: number): HeadRows {
  const storage = cache.layers[layer]![part];
  const T = storage.tokens;
  const rows: Float64Array[] = [];
  const intSpans: number[] = [];
  const codeScales: number[] = [];
  for (let t = 0; t < T; t++) {
    const packed = storage instanceof QuantizedPart && t >= storage.sinkCount;
    if (storage instanceof Fp16Part) rows.push(readF16Row(heap, storage.rows, head, t));
    else if (storage instanceof QuantizedPart && !packed) rows.push(readF16Row(heap, storage.sinkRows!, head, t));
    else if (storage instanceof QuantizedPart) rows.push(readPackedToken(heap, storage.packed, t, head));
    else throw new Error("unknown uniform part");
    intSpans.push(packed ? packedSpan((storage as QuantizedPart).packed, t, head) : 0);
    codeScales.push(packed ? packedReach((storage as QuantizedPart).packed, t, head) : 0);
  }
  return { rows, positions: rows.map((_, t) => t), intSpans, codeScales };
}

export function kiviStored(heap: WasmHeap, cache: KiviCache, layer: number, part: Part, head: number): HeadRows {
  const s = cache.layers[layer]!;
  const rows: Float64Array[] = [];
  const intSpans: number[] = [];
  const codeScales: number[] = [];
  const { bits, headDim: D } = s.keyBlocks;
  for (let t = 0; t < s.quantized; t++) {
    if (part === "values") {
      rows.push(readPackedToken(heap, s.values, t, head));
      intSpans.push(packedSpan(s.values, t, head));
      codeScales.push(packedReach(s.values, t, head));
      continue;
    }
    codeScales.push(0); // keys are not mixed
    // key block (note section 2): 32 token rows of ceil(D·b/8) code bytes, then D fp16 scales, then D fp16 zeros
    const block = s.keyBlocks.blockPtr(head, Math.floor(t / 32));
    const rowBytes = packedByteLength(D, bits);
    const memory = new Uint8Array(heap.memory.buffer);
    const params = new Uint16Array(heap.memory.buffer, block + 32 * rowBytes, 2 * D);
    const row = new Float64Array(D);
    let span = 0;
    for (let d = 0; d < D; d++) {
      const code = readCode(memory, block + (t % 32) * rowBytes, d, bits);
      row[d] = reconstructCode(code, f16ToF32(params[d]!), f16ToF32(params[D + d]!));
      span += 2 ** (bits - 1) * f16ToF32(params[d]!);
    }
    rows.push(row);
    intSpans.push(span);
  }
  const residual = part === "keys" ? s.residualKeys : s.residualValues;
  for (let r = 0; r < s.residual; r++) {
    rows.push(readF16Row(heap, residual, head, r));
    intSpans.push(0);
    codeScales.push(0);
  }
  return { rows, positions: rows.map((_, t) => t), intSpans, codeScales };
}

export function blockqStored(heap: WasmHeap, cache: BlockqCache, layer: number, part: Part, head: number, D: number, kvDim: number): HeadRows {
  const T = cache.storedTokens(layer);
  const decode = cache.config.format === "q8_0" ? dequantizeRowQ8_0 : dequantizeRowQ4_0;
  const rows: Float64Array[] = [];
  const intSpans: number[] = [];
  const codeScales: number[] = [];
  const full = new Float32Array(kvDim);
  // |code| ≤ 128 (q8_0) or |nibble − 8| ≤ 8 (q4_0) times the block's |d| = |x^| / |code| bounds: use the block maxima
  const codeMax = cache.config.format === "q8_0" ? 128 : 8;
  const blockBytes = cache.config.format === "q8_0" ? 34 : 18;
  for (let t = 0; t < T; t++) {
    const bytes = new Uint8Array(heap.memory.buffer, cache.rowPtr(layer, part, t), cache.rowBytes);
    decode(bytes, kvDim, full);
    rows.push(Float64Array.from(full.subarray(head * D, (head + 1) * D)));
    let span = 0;
    let codeScale = 0;
    for (let e = head * D; e < (head + 1) * D; e++) {
      const o = Math.floor(e / 32) * blockBytes;
      const reach = codeMax * Math.abs(f16ToF32(bytes[o]! | (bytes[o + 1]! << 8)));
      span += reach;
      codeScale = Math.max(codeScale, reach);
    }
    intSpans.push(span);
    codeScales.push(codeScale);
  }
  return { rows, positions: rows.map((_, t) => t), intSpans, codeScales };
}

export function evictingStored(heap: WasmHeap, cache: EvictingCache, layer: number, part: Part, head: number): HeadRows {
  const s = cache.layers[layer]!;
  const store = part === "keys" ? s.keys : s.values;
  const rows: Float64Array[] = [];
  const positions: number[] = [];
  const slotPositions = s.slots.positions(head);
  for (let t = 0; t < s.count; t++) {
    rows.push(readF16Row(heap, store, head, t));
    positions.push(slotPositions[t]!);
  }
  return { rows, positions, intSpans: rows.map(() => 0) };
}
