/**
 * copy_bytes: dst[i] = src[i] for bytes i in [begin, end). A memory-bandwidth probe for benchmarks: it moves bytes
 * with the same 16-byte loads and stores the kernels use (four per step, to keep several in flight), so its rate is
 * the ceiling a memory-bound kernel can approach. src and dst must not overlap.
 */

export function copy_bytes(begin: i32, end: i32, src: usize, dst: usize): void {
  let i = <usize>begin;
  const stop = <usize>end;
  for (; i + 64 <= stop; i += 64) {
    const a = v128.load(src + i);
    const b = v128.load(src + i, 16);
    const c = v128.load(src + i, 32);
    const d = v128.load(src + i, 48);
    v128.store(dst + i, a);
    v128.store(dst + i, b, 16);
    v128.store(dst + i, c, 32);
    v128.store(dst + i, d, 48);
  }
  for (; i + 16 <= stop; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < stop; i++) store<u8>(dst + i, load<u8>(src + i));
}
