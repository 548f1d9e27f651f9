/**
 * One quantization group, end to end: outliers out, uniform codes for the rest, codes bit-packed into the caller's
 * buffer; and the inverse, the "dequantize then compute" oracle that packed-data kernels are tested against.
 *
 * What a stored group consists of (all caller-owned; this module allocates nothing per group):
 *   packed codes   ceil(length·bits / 8) bytes at dstByteOffset, layout in bitpack.ts (every value has a code,
 *                  outliers included)
 *   scale, zero    float32; x^ = zero + (q + 0.5)·scale (uniform.ts)
 *   outliers       outlierCount entries at outlierStart of the positions / fp16 value-bit arrays, positions
 *                  ascending (outliers.ts); they overwrite the decoded values at their positions
 * Reading a group needs its length, bits, scale, zero and outlier span: the caller's ledger keeps those.
 */
import { ConfigError } from "../util/errors.js";
import { checkCodeBits, checkSpan } from "./checkArgs.js";
import { packCodes, packedByteLength, readCode } from "./bitpack.js";
import { markOutliers, outlierCountPerSide, patchOutliers, selectOutliers, type PositionArray } from "./outliers.js";
import { quantizeMeanClip, quantizeMinMax, reconstructCode, type GroupGrid, type UniformMethod } from "./uniform.js";

/** Per-group scratch, sized once for the longest group and reused for every group. */
export interface GroupScratch {
  /** [maxGroupLength] one code per value, before packing */
  readonly codes: Uint8Array;
  /** [maxGroupLength] 1 where the value is an outlier, else 0 */
  readonly excluded: Uint8Array;
}

export function createGroupScratch(maxGroupLength: number): GroupScratch {
  return { codes: new Uint8Array(maxGroupLength), excluded: new Uint8Array(maxGroupLength) };
}

/** What quantizeGroup reports besides the bytes it wrote. Caller-owned, overwritten by each call. */
export interface QuantizedGroupInfo extends GroupGrid {
  /** Entries written to the outlier arrays from outlierStart (2·perSide). */
  outlierCount: number;
}

export function createQuantizedGroupInfo(): QuantizedGroupInfo {
  return { scale: 0, zero: 0, outlierCount: 0 };
}

/**
 * Quantizes values[offset .. offset+length) to `bits` (0..8) bits with `method`, keeping the extremes selected by
 * `outlierRatio` exactly. Writes the packed codes to dstCodes at dstByteOffset (packedByteLength(length, bits)
 * bytes), the outliers to outlierPositions / outlierValueBits from outlierStart, and scale, zero and the outlier
 * count to `out`.
 */
export function quantizeGroup(
  values: Float32Array,
  offset: number,
  length: number,
  bits: number,
  method: UniformMethod,
  outlierRatio: number,
  dstCodes: Uint8Array,
  dstByteOffset: number,
  outlierPositions: PositionArray,
  outlierValueBits: Uint16Array,
  outlierStart: number,
  scratch: GroupScratch,
  out: QuantizedGroupInfo,
): void {
  checkCodeBits(bits); // before any work, so a bad width never costs an outlier scan
  checkSpan("scratch", scratch.codes.length, 0, length);
  const perSide = outlierCountPerSide(length, outlierRatio);
  const outlierCount = selectOutliers(
    values, offset, length, perSide, outlierPositions, outlierValueBits, outlierStart,
  );
  const excluded = outlierCount > 0 ? scratch.excluded : null;
  if (excluded !== null) markOutliers(outlierPositions, outlierStart, outlierCount, length, excluded);
  switch (method) {
    case "minmax":
      quantizeMinMax(values, offset, length, bits, excluded, scratch.codes, out);
      break;
    case "meanClip":
      quantizeMeanClip(values, offset, length, bits, excluded, scratch.codes, out);
      break;
    default:
      throw new ConfigError("method", '"minmax" or "meanClip"', method satisfies never);
  }
  packCodes(scratch.codes, length, bits, dstCodes, dstByteOffset);
  out.outlierCount = outlierCount;
}

/**
 * The inverse of quantizeGroup: decodes `length` packed codes at srcByteOffset with THE reconstruction formula into
 * out[outOffset ..), then restores the outliers exactly (to fp16 precision) at their positions.
 */
export function dequantizeGroupPacked(
  src: Uint8Array,
  srcByteOffset: number,
  length: number,
  bits: number,
  scale: number,
  zero: number,
  outlierPositions: PositionArray,
  outlierValueBits: Uint16Array,
  outlierStart: number,
  outlierCount: number,
  out: Float32Array,
  outOffset: number,
): void {
  checkSpan("src", src.length, srcByteOffset, packedByteLength(length, bits));
  checkSpan("out", out.length, outOffset, length);
  for (let i = 0; i < length; i++) {
    out[outOffset + i] = reconstructCode(readCode(src, srcByteOffset, i, bits), scale, zero);
  }
  patchOutliers(outlierPositions, outlierValueBits, outlierStart, outlierCount, out, outOffset, length);
}
