/**
 * Reading the generic per-group packed storage (contract section 1, docs in src/kernels/packedKernelExports.ts):
 * the metadata of group m, where a token's slice of a group starts, the outlier arrays, and a runtime-width unpack.
 *
 *   slot  u32 [groups]  pointer to the group's slot      bits  u8  [groups]  code width 0..8
 *   scale u16 [groups]  f16 grid step                    zero  u16 [groups]  f16 grid origin
 *   slot: [codes ceil(G·b/8) bytes][pad to 2][positions nOut × u16][values nOut × u16 (f16)]
 *   x^ = zero + (c + 0.5)·scale, evaluated in f32 in exactly that order (src/quant/uniform.ts reconstructCode)
 */
import { pkLoadHalf, pkUnpack8 } from "./packedSimd";

/** Widest code the format stores. */
export const PK_MAX_BITS: i32 = 8;

/** Group index of token t: m = t·metaStride + metaIndex. */
// @ts-ignore: decorator
@inline export function pkGroupIndex(t: i32, metaStride: i32, metaIndex: i32): usize {
  return <usize>t * <usize>metaStride + <usize>metaIndex;
}

// @ts-ignore: decorator
@inline export function pkSlotOf(slot: usize, m: usize): usize {
  return <usize>load<u32>(slot + (m << 2));
}

// @ts-ignore: decorator
@inline export function pkBitsOf(bits: usize, m: usize): i32 {
  return <i32>load<u8>(bits + m);
}

/**
 * The grid step of group m as f32; NaN when the stored width is impossible (> 8), so a corrupt ledger shows up as
 * NaN scores (which the engine reports) instead of codes read with a wrong width.
 */
// @ts-ignore: decorator
@inline export function pkScaleOf(scale: usize, m: usize, width: i32): f32 {
  const step = pkLoadHalf(scale + (m << 1));
  return width > PK_MAX_BITS ? NaN : step;
}

// @ts-ignore: decorator
@inline export function pkZeroOf(zero: usize, m: usize): f32 {
  return pkLoadHalf(zero + (m << 1));
}

/** Byte offset of the outlier positions in a slot: the code bytes rounded up to 2. */
// @ts-ignore: decorator
@inline export function pkOutlierPositions(slotPtr: usize, groupLen: i32, width: i32): usize {
  return slotPtr + ((<usize>((groupLen * width + 7) >> 3) + 1) & ~(<usize>1));
}

/** THE reconstruction formula in f32: zero + (c + 0.5)·scale. */
// @ts-ignore: decorator
@inline export function pkReconstruct(code: u32, step: f32, origin: f32): f32 {
  return origin + (<f32>code + 0.5) * step;
}

/**
 * The 8 codes of a runtime width (0..8) at group element `element` (a multiple of 8) of the stream at `codes`.
 * A width above 8 reads as zeros (its scale is NaN, see pkScaleOf).
 */
// @ts-ignore: decorator
@inline export function pkUnpack8AnyWidth(width: i32, codes: usize, element: i32): v128 {
  const block = <usize>(element >> 3);
  switch (width) {
    case 1: return pkUnpack8(1, codes + block);
    case 2: return pkUnpack8(2, codes + block * 2);
    case 3: return pkUnpack8(3, codes + block * 3);
    case 4: return pkUnpack8(4, codes + block * 4);
    case 5: return pkUnpack8(5, codes + block * 5);
    case 6: return pkUnpack8(6, codes + block * 6);
    case 7: return pkUnpack8(7, codes + block * 7);
    case 8: return pkUnpack8(8, codes + block * 8);
    default: return i16x8.splat(0);
  }
}
