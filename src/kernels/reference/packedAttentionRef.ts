/**
 * References for attn_scores_packed / attn_mix_packed (contract section 1, src/kernels/packedKernelExports.ts): the
 * contract read literally, one value at a time, from the same heap bytes the kernels read; sums in float64.
 *
 *   group m = t·metaStride + metaIndex; its slot, width, f16 scale and zero come from the metadata arrays;
 *   element e of the group decodes to its outlier value if e is an outlier position, else to
 *   reconstructCode(code e, scale, zero) (THE formula, src/quant/uniform.ts);
 *   the head's value d is element elemOffset + d.
 */
import { readCode } from "../../quant/bitpack.js";
import { f16ToF32 } from "../../quant/fp16.js";
import { reconstructCode } from "../../quant/uniform.js";

/** Where a part's packed groups live and where one head sits in them: the kernels' last nine arguments. */
export interface PackedPartLayout {
  /** u32 [groups]: pointer to each group's slot */
  readonly slot: number;
  /** u8 [groups]: code width 0..8 */
  readonly bits: number;
  /** u16 [groups]: f16 grid step */
  readonly scale: number;
  /** u16 [groups]: f16 grid origin */
  readonly zero: number;
  readonly metaStride: number;
  readonly metaIndex: number;
  readonly elemOffset: number;
  readonly groupLen: number;
  readonly nOut: number;
}

/** The layout as the kernels take it: (slot, bits, scale, zero, metaStride, metaIndex, elemOffset, groupLen, nOut). */
export function packedLayoutArgs(layout: PackedPartLayout): number[] {
  const l = layout;
  return [l.slot, l.bits, l.scale, l.zero, l.metaStride, l.metaIndex, l.elemOffset, l.groupLen, l.nOut];
}

/** out[0..D) = x^ of the head's D values for token t. */
export function packedHeadValuesRef(memory: Uint8Array, layout: PackedPartLayout, D: number, t: number, out: Float64Array): void {
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  const m = t * layout.metaStride + layout.metaIndex;
  const slot = view.getUint32(layout.slot + 4 * m, true);
  const bits = view.getUint8(layout.bits + m);
  const scale = f16ToF32(view.getUint16(layout.scale + 2 * m, true));
  const zero = f16ToF32(view.getUint16(layout.zero + 2 * m, true));
  const codeBytes = Math.ceil((layout.groupLen * bits) / 8);
  const positions = slot + codeBytes + (codeBytes % 2);
  const values = positions + 2 * layout.nOut;
  for (let d = 0; d < D; d++) {
    const element = layout.elemOffset + d;
    out[d] = reconstructCode(readCode(memory, slot, element, bits), scale, zero);
    for (let o = 0; o < layout.nOut; o++) {
      if (view.getUint16(positions + 2 * o, true) === element) out[d] = f16ToF32(view.getUint16(values + 2 * o, true));
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
