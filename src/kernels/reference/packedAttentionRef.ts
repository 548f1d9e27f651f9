/**
 * References for attn_scores_packed / attn_mix_packed (contract section 1, src/kernels/packedKernelExports.ts): the
 * contract read literally, one value at a time, from the same heap bytes the kernels read; sums in float64.
 *
 *   group m = t of one sequence; its width is nibble m of `bits`, its f16 scale and zero come from their arrays;
 *   its slot starts at blocks[m >> 8] plus the slot sizes of the block's groups before it (slotBytes below);
 *   element e of the group decodes to its outlier value if e is an outlier position, else to
 *   reconstructCode(code e, scale, zero) (THE formula, src/quant/uniform.ts); an empty group (width 15) reads as 0;
 *   the head's value d is element elemOffset + d.
 */
import { readCode } from "../../quant/bitpack.js";
import { f16ToF32 } from "../../quant/fp16.js";
import { reconstructCode } from "../../quant/uniform.js";

/** Width nibble of an empty group. */
export const EMPTY_WIDTH = 15;
/** Groups per block of a sequence. */
export const BLOCK_GROUPS = 256;

/** Where one sequence's packed groups live and where one head sits in them: the kernels' last seven arguments. */
export interface PackedPartLayout {
  /** u32 [ceil(groups/256)]: heap pointer of each block of 256 groups */
  readonly blocks: number;
  /** u8 [ceil(groups/2)]: code width per group, 4 bits, low nibble first (0..8, 15 = empty) */
  readonly bits: number;
  /** u16 [groups]: f16 grid step */
  readonly scale: number;
  /** u16 [groups]: f16 grid origin */
  readonly zero: number;
  readonly elemOffset: number;
  readonly groupLen: number;
  readonly nOut: number;
}

/** The layout as the kernels take it: (blocks, bits, scale, zero, elemOffset, groupLen, nOut). */
export function packedLayoutArgs(layout: PackedPartLayout): number[] {
  const l = layout;
  return [l.blocks, l.bits, l.scale, l.zero, l.elemOffset, l.groupLen, l.nOut];
}

/** Bytes of a slot of `width` in groups of `groupLen` values with nOut outliers (0 for an empty group). */
export function packedSlotBytes(width: number, groupLen: number, nOut: number): number {
  if (width === EMPTY_WIDTH) return 0;
  return Math.ceil((groupLen * width) / 8) + nOut * (groupLen <= 256 ? 3 : 4);
}

/** Width of group m. */
export function packedWidthRef(view: DataView, layout: PackedPartLayout, m: number): number {
  return (view.getUint8(layout.bits + (m >> 1)) >> ((m & 1) * 4)) & 15;
}

/** Slot address of group m, from the block table and the widths before it in its block. */
export function packedSlotRef(view: DataView, layout: PackedPartLayout, m: number): number {
  const block = Math.floor(m / BLOCK_GROUPS);
  let ptr = view.getUint32(layout.blocks + 4 * block, true);
  for (let j = block * BLOCK_GROUPS; j < m; j++) ptr += packedSlotBytes(packedWidthRef(view, layout, j), layout.groupLen, layout.nOut);
  return ptr;
}

/** out[0..D) = x^ of the head's D values for token t. */
export function packedHeadValuesRef(memory: Uint8Array, layout: PackedPartLayout, D: number, t: number, out: Float64Array): void {
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  const bits = packedWidthRef(view, layout, t);
  if (bits === EMPTY_WIDTH) {
    out.fill(0, 0, D);
    return;
  }
  const slot = packedSlotRef(view, layout, t);
  const scale = f16ToF32(view.getUint16(layout.scale + 2 * t, true));
  const zero = f16ToF32(view.getUint16(layout.zero + 2 * t, true));
  const values = slot + Math.ceil((layout.groupLen * bits) / 8);
  const positions = values + 2 * layout.nOut;
  const wide = layout.groupLen > 256;
  for (let d = 0; d < D; d++) {
    const element = layout.elemOffset + d;
    out[d] = reconstructCode(readCode(memory, slot, element, bits), scale, zero);
    for (let o = 0; o < layout.nOut; o++) {
      const position = wide ? view.getUint16(positions + 2 * o, true) : view.getUint8(positions + o);
      if (position === element) out[d] = f16ToF32(view.getUint16(values + 2 * o, true));
    }
  }
}

/** out[i·T + t] = Σ_d q[i·D + d]·x^_{t,d} for t in [begin, end); q: [nq, D]; out: [nq, T]. */
export function attnScoresPackedRef(
  memory: Uint8Array, layout: PackedPartLayout, q: Float32Array, out: Float64Array, nq: number, D: number, T: number,
  begin = 0, end = T,
): void {
  const x = new Float64Array(D);
  for (let t = begin; t < end; t++) {
    packedHeadValuesRef(memory, layout, D, t, x);
    for (let i = 0; i < nq; i++) {
      let sum = 0;
      for (let d = 0; d < D; d++) sum += q[i * D + d]! * x[d]!;
      out[i * T + t] = sum;
    }
  }
}

/** out[i·D + d] = Σ_t p[i·T + t]·x^_{t,d} for every d in [0, D); p: [nq, T]; out: [nq, D]. */
export function attnMixPackedRef(
  memory: Uint8Array, layout: PackedPartLayout, p: Float32Array, out: Float64Array, nq: number, D: number, T: number,
): void {
  const x = new Float64Array(D);
  out.fill(0, 0, nq * D);
  for (let t = 0; t < T; t++) {
    packedHeadValuesRef(memory, layout, D, t, x);
    for (let i = 0; i < nq; i++) {
      for (let d = 0; d < D; d++) out[i * D + d] += p[i * T + t]! * x[d]!;
    }
  }
}
