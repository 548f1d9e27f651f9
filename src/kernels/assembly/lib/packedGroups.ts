/**
 * Reading the generic per-group packed storage (contract section 1, docs in src/kernels/packedKernelExports.ts):
 * the metadata of group m, where a token's slice of a group starts, the outlier arrays, and a runtime-width unpack.
 *
 *   blocks u32 [ceil(groups/256)]  heap pointer of each block of 256 groups (0: a block with no slot bytes)
 *   bits   u8  [ceil(groups/2)]    code width per group, 4 bits (low nibble first): 0..8, 15 = empty
 *   scale  u16 [groups]  f16 grid step                    zero  u16 [groups]  f16 grid origin
 *   slot: [codes ceil(G·b/8) bytes][values nOut × f16][positions nOut × u8 (u16 when G > 256)], slots of a block
 *   back to back, so a slot's address is derived from the widths before it (pkSlotOf).
 *   x^ = zero + (c + 0.5)·scale, evaluated in f32 in exactly that order (src/quant/uniform.ts reconstructCode)
 */
import { pkLoadHalf, pkUnpack8 } from "./packedSimd";

/** Widest code the format stores. */
export const PK_MAX_BITS: i32 = 8;
/** Width nibble of an empty group (a token held in fp16 elsewhere): no slot bytes, scale = zero = 0, x^ = 0. */
export const PK_EMPTY_WIDTH: i32 = 15;
/** Groups per block: each block of a sequence is one heap region, found through the block table. */
export const PK_BLOCK_SHIFT: i32 = 8;

// The sequence a kernel call reads (set once per call by pkBeginSequence; globals are per instance, i.e. per thread),
// and a cursor: the slot address of group pkCursor, so walking groups in order costs one add per group.
let pkBlocks: usize = 0;
let pkWidths: usize = 0;
let pkGroupLen: i32 = 0;
let pkOutlierBytes: i32 = 0;
let pkCursor: isize = -1;
let pkCursorPtr: usize = 0;

/** Starts reading a sequence: its block table, width nibbles, group length and outliers per group. */
// @ts-ignore: decorator
@inline export function pkBeginSequence(blocks: usize, widths: usize, groupLen: i32, nOut: i32): void {
  pkBlocks = blocks;
  pkWidths = widths;
  pkGroupLen = groupLen;
  pkOutlierBytes = nOut * (groupLen <= 256 ? 3 : 4);
  pkCursor = -1;
}

/** Group index of token t (one group per token in a sequence; the stride arguments are 1 and 0). */
// @ts-ignore: decorator
@inline export function pkGroupIndex(t: i32, metaStride: i32, metaIndex: i32): usize {
  return <usize>t * <usize>metaStride + <usize>metaIndex;
}

/** Bytes of a slot of width w: codes, then nOut f16 values and nOut positions (u8, or u16 past 256 values). */
// @ts-ignore: decorator
@inline export function pkSlotBytes(width: i32): usize {
  return width == PK_EMPTY_WIDTH ? 0 : <usize>(((pkGroupLen * width + 7) >> 3) + pkOutlierBytes);
}

/**
 * Slot address of group m, derived: the block's region pointer plus the slots of the block's earlier groups. In
 * order (m = cursor + 1) this is one add; elsewhere a walk over at most 255 width nibbles. `slot` is unused (the
 * sequence comes from pkBeginSequence).
 */
// @ts-ignore: decorator
@inline export function pkSlotOf(slot: usize, m: usize): usize {
  const im = <isize>m;
  if (im == pkCursor) return pkCursorPtr;
  if (im == pkCursor + 1 && (m & ((1 << PK_BLOCK_SHIFT) - 1)) != 0) {
    pkCursorPtr += pkSlotBytes(pkBitsOf(pkWidths, <usize>pkCursor));
    pkCursor = im;
    return pkCursorPtr;
  }
  return pkSeek(m);
}

function pkSeek(m: usize): usize {
  const first = (m >> PK_BLOCK_SHIFT) << PK_BLOCK_SHIFT;
  let ptr = <usize>load<u32>(pkBlocks + ((m >> PK_BLOCK_SHIFT) << 2));
  for (let j = first; j < m; j++) ptr += pkSlotBytes(pkBitsOf(pkWidths, j));
  pkCursor = <isize>m;
  pkCursorPtr = ptr;
  return ptr;
}

/** Width of group m: nibble m of the width array (low nibble first). */
// @ts-ignore: decorator
@inline export function pkBitsOf(bits: usize, m: usize): i32 {
  return (<i32>load<u8>(bits + (m >> 1)) >> (<i32>(m & 1) << 2)) & 15;
}

/**
 * The grid step of group m as f32; NaN when the stored width is impossible (9..14), so a corrupt width shows up as
 * NaN scores (which the engine reports) instead of codes read with a wrong width. An empty group's step is 0.
 */
// @ts-ignore: decorator
@inline export function pkScaleOf(scale: usize, m: usize, width: i32): f32 {
  const step = pkLoadHalf(scale + (m << 1));
  return width > PK_MAX_BITS && width != PK_EMPTY_WIDTH ? NaN : step;
}

// @ts-ignore: decorator
@inline export function pkZeroOf(zero: usize, m: usize): f32 {
  return pkLoadHalf(zero + (m << 1));
}

/** Address of the outlier values (f16) in a slot: right after the codes; the positions follow the values. */
// @ts-ignore: decorator
@inline export function pkOutlierValues(slotPtr: usize, groupLen: i32, width: i32): usize {
  return slotPtr + <usize>((groupLen * width + 7) >> 3);
}

/** Position o of a slot's outliers (u8 for groups of up to 256 values, else u16). */
// @ts-ignore: decorator
@inline export function pkOutlierPosition(positions: usize, o: i32, groupLen: i32): i32 {
  return groupLen <= 256 ? <i32>load<u8>(positions + <usize>o) : <i32>load<u16>(positions + (<usize>o << 1));
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
