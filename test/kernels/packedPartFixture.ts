import { createGroupScratch, createQuantizedGroupInfo, quantizeGroup } from "../../src/quant/quantizeGroup.js";
import { dequantizeGroup } from "../../src/quant/uniform.js";
import { patchOutliers } from "../../src/quant/outliers.js";
import { f16ToF32, f32ToF16 } from "../../src/quant/fp16.js";
import type { PackedPartLayout } from "../../src/kernels/reference/packedAttentionRef.js";
import { gaussianFloats, type HeapScope } from "./packedTestSupport.js";

/**
 * A part (the keys or values of one layer) in the generic packed format of contract section 1, built in the heap
 * with the project's quantizer (src/quant), plus the dense oracle: every group dequantized from its UNPACKED codes
 * (dequantizeGroup + patchOutliers), so the oracle never reads the packed bytes the kernels and references read.
 *
 * Slots are laid back to back from an odd address (no alignment is promised), each group with its own width.
 * Scale and zero are rounded to f16 to the nearest; the codes stay those of the f32 grid, which is legal storage
 * (the kernels compute with whatever is stored) and keeps the fixture independent of the cache's grid rounding.
 */
export type GroupScope = "head" | "layer";

export interface PackedPartSpec {
  readonly T: number;
  readonly nKv: number;
  readonly D: number;
  readonly scope: GroupScope;
  /** outliers kept at each end of a group (nOut = 2·perSide) */
  readonly perSide: number;
  /** code width of group g of token t (g < nKv for scope "head", 0 for "layer") */
  readonly widthOf: (t: number, g: number) => number;
}

export interface PackedPartFixture {
  /** [T, nKv·D] dequantized values with outliers patched in */
  readonly dense: Float32Array;
  /**
   * [T, nKv]: scale·Σ_d |c_d - mid| over each token's head (mid = 2^(b-1), b = 0: 0), the weight of the query's
   * int16 rounding in that token's scores (see queryRoundingBound in packedTestSupport.ts)
   */
  readonly codeMass: Float64Array;
  /** [T, nKv]: the f16 scale of the group holding each token's head, 0 for width 0 (the mix's int16 weights p·scale) */
  readonly codeScale: Float64Array;
  /** [T, nKv]: the largest code of that group, 2^b − 1 */
  readonly codeMax: Float64Array;
  /** the kernels' layout arguments for KV head `head` */
  layoutFor(head: number): PackedPartLayout;
}

export function buildPackedPart(scope: HeapScope, random: () => number, spec: PackedPartSpec): PackedPartFixture {
  const { T, nKv, D, perSide } = spec;
  const width = nKv * D;
  const groupLen = spec.scope === "head" ? D : width;
  const groupsPerToken = spec.scope === "head" ? nKv : 1;
  const groups = T * groupsPerToken;
  const nOut = 2 * perSide;
  const ratio = perSide === 0 ? 0 : (2 * perSide) / groupLen;
  const values = gaussianFloats(random, T * width);
  const widths = Array.from({ length: groups }, (_, m) => spec.widthOf(Math.floor(m / groupsPerToken), m % groupsPerToken));
  const slotBytes = (bits: number): number => {
    const codes = Math.ceil((groupLen * bits) / 8);
    return codes + (codes % 2) + 4 * nOut;
  };
  const slab = scope.alloc(1 + widths.reduce((sum, bits) => sum + slotBytes(bits), 0), "packed slots");
  const slotRegion = scope.alloc(4 * groups, "slot pointers");
  const bitsRegion = scope.alloc(groups, "code widths");
  const scaleRegion = scope.alloc(2 * groups, "scales");
  const zeroRegion = scope.alloc(2 * groups, "zeros");
  const heap = scope.heap;
  const slotView = new Uint32Array(heap.memory.buffer, slotRegion.ptr, groups);
  const bitsView = heap.u8(bitsRegion, 0, groups);
  const scaleView = heap.u16(scaleRegion, 0, groups);
  const zeroView = heap.u16(zeroRegion, 0, groups);
  const memory = scope.bytes();
  const view = new DataView(memory.buffer);

  const dense = new Float32Array(T * width);
  const codeMass = new Float64Array(T * nKv);
  const codeScale = new Float64Array(T * nKv);
  const codeMax = new Float64Array(T * nKv);
  const groupScratch = createGroupScratch(groupLen);
  const info = createQuantizedGroupInfo();
  const positions = new Uint16Array(Math.max(1, nOut));
  const valueBits = new Uint16Array(Math.max(1, nOut));
  let at = slab.ptr + 1;
  for (let m = 0; m < groups; m++) {
    const bits = widths[m]!;
    const offset = Math.floor(m / groupsPerToken) * width + (m % groupsPerToken) * groupLen;
    quantizeGroup(values, offset, groupLen, bits, "minmax", ratio, memory, at, positions, valueBits, 0, groupScratch, info);
    const scaleBits = f32ToF16(info.scale);
    const zeroBits = f32ToF16(info.zero);
    const codes = Math.ceil((groupLen * bits) / 8);
    const outliers = at + codes + (codes % 2);
    for (let o = 0; o < nOut; o++) {
      view.setUint16(outliers + 2 * o, positions[o]!, true);
      view.setUint16(outliers + 2 * nOut + 2 * o, valueBits[o]!, true);
    }
    slotView[m] = at;
    bitsView[m] = bits;
    scaleView[m] = scaleBits;
    zeroView[m] = zeroBits;
    dequantizeGroup(groupScratch.codes, groupLen, bits, f16ToF32(scaleBits), f16ToF32(zeroBits), dense, offset);
    for (let e = 0; e < groupLen; e++) {
      const head = Math.floor((offset + e - Math.floor(m / groupsPerToken) * width) / D);
      const th = Math.floor(m / groupsPerToken) * nKv + head;
      codeMass[th] += f16ToF32(scaleBits) * Math.abs(groupScratch.codes[e]! - ((1 << bits) >> 1));
      codeScale[th] = bits === 0 ? 0 : Math.abs(f16ToF32(scaleBits));
      codeMax[th] = (1 << bits) - 1;
    }
    patchOutliers(positions, valueBits, 0, nOut, dense, offset, groupLen);
    at += slotBytes(bits);
  }
  return {
    dense,
    codeMass,
    codeScale,
    codeMax,
    layoutFor: (head) => ({
      slot: slotRegion.ptr,
      bits: bitsRegion.ptr,
      scale: scaleRegion.ptr,
      zero: zeroRegion.ptr,
      metaStride: groupsPerToken,
      metaIndex: spec.scope === "head" ? head : 0,
      elemOffset: spec.scope === "head" ? 0 : head * D,
      groupLen,
      nOut,
    }),
  };
}
