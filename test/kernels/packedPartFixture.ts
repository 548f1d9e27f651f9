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
 * One sequence per KV head (scope "head") or one for the layer ("layer"); each sequence's slots are laid back to back
 * in blocks of 256 groups, each block its own region starting at an odd address (no alignment is promised), each
 * group with its own width; width 15 marks an empty group (no slot, scale = zero = 0, reads as 0).
 * Scale and zero are rounded to f16 to the nearest; the codes stay those of the f32 grid, which is legal storage
 * (the kernels compute with whatever is stored) and keeps the fixture independent of the cache's grid rounding.
 */
export type GroupScope = "head" | "layer";

export interface PackedPartSpec {
  readonly T: number;
  readonly nKv: number;
  readonly D: number;
  readonly scope: GroupScope;
  /** outliers kept at each end of a group (nOut = 2·perSide; the kernels do not care how they were chosen) */
  readonly perSide: number;
  /** code width of group g of token t (g < nKv for scope "head", 0 for "layer"); 15 = empty */
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

const EMPTY = 15;
const BLOCK = 256;

export function buildPackedPart(scope: HeapScope, random: () => number, spec: PackedPartSpec): PackedPartFixture {
  const { T, nKv, D, perSide } = spec;
  const width = nKv * D;
  const groupLen = spec.scope === "head" ? D : width;
  const sequences = spec.scope === "head" ? nKv : 1;
  const nOut = 2 * perSide;
  const ratio = perSide === 0 ? 0 : (2 * perSide) / groupLen;
  const positionBytes = groupLen <= 256 ? 1 : 2;
  const values = gaussianFloats(random, T * width);
  const slotBytes = (bits: number): number => (bits === EMPTY ? 0 : Math.ceil((groupLen * bits) / 8) + nOut * (2 + positionBytes));
  const heap = scope.heap;
  const dense = new Float32Array(T * width);
  const codeMass = new Float64Array(T * nKv);
  const codeScale = new Float64Array(T * nKv);
  const codeMax = new Float64Array(T * nKv);
  const groupScratch = createGroupScratch(groupLen);
  const info = createQuantizedGroupInfo();
  const positions = new Uint16Array(Math.max(1, nOut));
  const valueBits = new Uint16Array(Math.max(1, nOut));
  const layouts: PackedPartLayout[] = [];
  for (let g = 0; g < sequences; g++) {
    const widths = Array.from({ length: T }, (_, t) => spec.widthOf(t, g));
    const blockCount = Math.ceil(T / BLOCK);
    const blocks = scope.alloc(4 * Math.max(1, blockCount), "block table");
    const bitsRegion = scope.alloc(Math.max(1, Math.ceil(T / 2)), "code widths");
    const scaleRegion = scope.alloc(2 * Math.max(1, T), "scales");
    const zeroRegion = scope.alloc(2 * Math.max(1, T), "zeros");
    for (let b = 0; b < blockCount; b++) {
      const size = widths.slice(b * BLOCK, (b + 1) * BLOCK).reduce((sum, bits) => sum + slotBytes(bits), 0);
      const region = scope.alloc(1 + size, `block ${b}`);
      new Uint32Array(heap.memory.buffer, blocks.ptr, blockCount)[b] = region.ptr + 1;
    }
    const memory = scope.bytes();
    const view = new DataView(memory.buffer);
    let at = 0;
    for (let t = 0; t < T; t++) {
      if (t % BLOCK === 0) at = view.getUint32(blocks.ptr + 4 * (t / BLOCK), true);
      const bits = widths[t]!;
      const shift = (t & 1) * 4;
      memory[bitsRegion.ptr + (t >> 1)] = (memory[bitsRegion.ptr + (t >> 1)]! & ~(15 << shift)) | (bits << shift);
      const offset = t * width + g * groupLen;
      if (bits === EMPTY) continue; // dense stays 0; scale = zero = 0 (zero-filled regions)
      quantizeGroup(values, offset, groupLen, bits, "minmax", ratio, memory, at, positions, valueBits, 0, groupScratch, info);
      const scaleBits = f32ToF16(info.scale);
      const zeroBits = f32ToF16(info.zero);
      const codes = Math.ceil((groupLen * bits) / 8);
      for (let o = 0; o < nOut; o++) {
        view.setUint16(at + codes + 2 * o, valueBits[o]!, true);
        if (positionBytes === 1) view.setUint8(at + codes + 2 * nOut + o, positions[o]!);
        else view.setUint16(at + codes + 2 * nOut + 2 * o, positions[o]!, true);
      }
      view.setUint16(scaleRegion.ptr + 2 * t, scaleBits, true);
      view.setUint16(zeroRegion.ptr + 2 * t, zeroBits, true);
      dequantizeGroup(groupScratch.codes, groupLen, bits, f16ToF32(scaleBits), f16ToF32(zeroBits), dense, offset);
      for (let e = 0; e < groupLen; e++) {
        const head = spec.scope === "head" ? g : Math.floor(e / D);
        const th = t * nKv + head;
        codeMass[th] += f16ToF32(scaleBits) * Math.abs(groupScratch.codes[e]! - ((1 << bits) >> 1));
        codeScale[th] = bits === 0 ? 0 : Math.abs(f16ToF32(scaleBits));
        codeMax[th] = (1 << bits) - 1;
      }
      patchOutliers(positions, valueBits, 0, nOut, dense, offset, groupLen);
      at += slotBytes(bits);
    }
    layouts.push({ blocks: blocks.ptr, bits: bitsRegion.ptr, scale: scaleRegion.ptr, zero: zeroRegion.ptr, elemOffset: 0, groupLen, nOut });
  }
  return {
    dense,
    codeMass,
    codeScale,
    codeMax,
    layoutFor: (head) => {
      const layout = layouts[spec.scope === "head" ? head : 0]!;
      return { ...layout, elemOffset: spec.scope === "head" ? 0 : head * D };
    },
  };
}
