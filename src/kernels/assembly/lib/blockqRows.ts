/**
 * Element access on blockq KV rows (layouts in blockqAttention.ts / packedKernelExports section 3), shared by the
 * blockq scores and mix kernels: `kind` is a constant at every call site and folds away.
 *   q8_0 block (34 bytes): f16 d, 32 × i8 q            x^ = d·q
 *   q4_0 block (18 bytes): f16 d, 16 bytes: byte j holds element j (low nibble) and j+16 (high)    x^ = d·(nibble - 8)
 */
import { pkLoadHalf } from "./packedSimd";

export const BLOCKQ_Q8_0: i32 = 0;
export const BLOCKQ_Q4_0: i32 = 1;

/** Bytes of one block. */
// @ts-ignore: decorator
@inline export function blockqBlockBytes(kind: i32): usize {
  return kind == BLOCKQ_Q8_0 ? 34 : 18;
}

/** Row element e, scalar (the paths for heads that do not start on a multiple of 8). */
// @ts-ignore: decorator
@inline export function blockqValue(kind: i32, row: usize, e: i32): f32 {
  const at = row + <usize>(e >> 5) * blockqBlockBytes(kind);
  const within = e & 31;
  const d = pkLoadHalf(at);
  if (kind == BLOCKQ_Q8_0) return d * <f32>load<i8>(at + 2 + <usize>within);
  const packed = <i32>load<u8>(at + 2 + <usize>(within & 15));
  return d * <f32>(((within < 16 ? packed : packed >> 4) & 0x0f) - 8);
}
