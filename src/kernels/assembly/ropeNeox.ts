/**
 * rope_neox: rows = tokens t in [begin, end). The NeoX (GPT-NeoX, Qwen) rotary layout: pair i of a head is
 * (x[i], x[i + headDim/2]), not two neighbours as in `rope`; it rotates by the same table angle as pair i there:
 *   (a, b) -> (a·cos - b·sin, a·sin + b·cos).
 * x: [nTok, nHeads, headDim] f32 in place; cosSin: [seqLen, headDim/2, 2] f32 (the same table as `rope`).
 * headDim is even; any headDim works (scalar tail when headDim/2 is not a multiple of 4).
 */

export function rope_neox(begin: i32, end: i32, x: usize, cosSin: usize, pos0: i32, nHeads: i32, headDim: i32): void {
  const half = headDim >> 1;
  const headBytes = <usize>headDim << 2;
  const halfBytes = <usize>half << 2;
  const tokenBytes = <usize>nHeads * headBytes;
  for (let t = begin; t < end; t++) {
    const table = cosSin + <usize>(pos0 + t) * headBytes; // half pairs of (cos, sin) = headDim floats
    const xt = x + <usize>t * tokenBytes;
    for (let h = 0; h < nHeads; h++) {
      const lo = xt + <usize>h * headBytes; // a_i = x[i]
      const hi = lo + halfBytes; //            b_i = x[i + half]
      let i = 0;
      for (; i + 4 <= half; i += 4) {
        const o = <usize>i << 2;
        const cs0 = v128.load(table + (o << 1)); // [c0, s0, c1, s1]
        const cs1 = v128.load(table + (o << 1), 16); // [c2, s2, c3, s3]
        const cos = v128.shuffle<f32>(cs0, cs1, 0, 2, 4, 6);
        const sin = v128.shuffle<f32>(cs0, cs1, 1, 3, 5, 7);
        const a = v128.load(lo + o);
        const b = v128.load(hi + o);
        v128.store(lo + o, f32x4.sub(f32x4.mul(a, cos), f32x4.mul(b, sin)));
        v128.store(hi + o, f32x4.add(f32x4.mul(a, sin), f32x4.mul(b, cos)));
      }
      for (; i < half; i++) {
        const o = <usize>i << 2;
        const a = load<f32>(lo + o);
        const b = load<f32>(hi + o);
        const c = load<f32>(table + (o << 1));
        const s = load<f32>(table + (o << 1), 4);
        store<f32>(lo + o, a * c - b * s);
        store<f32>(hi + o, a * s + b * c);
      }
    }
  }
}
