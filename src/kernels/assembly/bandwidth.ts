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

/**
 * read_bytes: reads bytes [begin, end) of src (16 bytes at a time, four loads in flight, as the decode kernels read
 * weights) and stores their xor at out + (begin >> 16)·16, so the reads cannot be dropped. The read-only bandwidth
 * probe: a decode step only reads its weights, so this is its memory bound. Called with a grain of 65536 bytes, each
 * slice has its own output slot; end - begin a multiple of 64.
 */
export function read_bytes(begin: i32, end: i32, src: usize, out: usize): void {
  let a = i32x4.splat(0), b = i32x4.splat(0), c = i32x4.splat(0), d = i32x4.splat(0);
  for (let i = <usize>begin; i + 64 <= <usize>end; i += 64) {
    a = v128.xor(a, v128.load(src + i));
    b = v128.xor(b, v128.load(src + i, 16));
    c = v128.xor(c, v128.load(src + i, 32));
    d = v128.xor(d, v128.load(src + i, 48));
  }
  v128.store(out + (<usize>(begin >> 16) << 4), v128.xor(v128.xor(a, b), v128.xor(c, d)));
}
