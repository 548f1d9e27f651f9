/**
 * rope: rows = tokens t in [begin, end). Rotates the interleaved pairs (x[2i], x[2i+1]) of every head of token t by
 * the angle of position pos0 + t:  (a, b) -> (a·cos - b·sin, a·sin + b·cos).
 * x: [nTok, nHeads, headDim] f32 in place; cosSin: [seqLen, headDim/2, 2] f32 = (cos, sin) of pos·theta^(-2i/headDim)
 * (the table is the caller's; this only multiplies). headDim is even; any headDim works (scalar pair tail).
 */

export function rope(begin: i32, end: i32, x: usize, cosSin: usize, pos0: i32, nHeads: i32, headDim: i32): void {
  const headBytes = <usize>headDim << 2;
  const tokenBytes = <usize>nHeads * headBytes;
  // the sine goes with -1 in the even (first) lane of each pair
  const signs = f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(1), 0, -1), 2, -1);
  for (let t = begin; t < end; t++) {
    const table = cosSin + <usize>(pos0 + t) * headBytes; // headDim/2 pairs of 2 floats = headDim floats
    const xt = x + <usize>t * tokenBytes;
    for (let h = 0; h < nHeads; h++) {
      const xh = xt + <usize>h * headBytes;
      let i = 0;
      for (; i + 4 <= headDim; i += 4) {
        const o = <usize>i << 2;
        const v = v128.load(xh + o); // [a0, b0, a1, b1]
        const cs = v128.load(table + o); // [c0, s0, c1, s1]
        const cos = v128.shuffle<f32>(cs, cs, 0, 0, 2, 2);
        const sin = f32x4.mul(v128.shuffle<f32>(cs, cs, 1, 1, 3, 3), signs);
        const swapped = v128.shuffle<f32>(v, v, 1, 0, 3, 2); // [b0, a0, b1, a1]
        v128.store(xh + o, f32x4.add(f32x4.mul(v, cos), f32x4.mul(swapped, sin)));
      }
      for (; i < headDim; i += 2) {
        const o = <usize>i << 2;
        const a = load<f32>(xh + o);
        const b = load<f32>(xh + o, 4);
        const c = load<f32>(table + o);
        const s = load<f32>(table + o, 4);
        store<f32>(xh + o, a * c - b * s);
        store<f32>(xh + o, a * s + b * c, 4);
      }
    }
  }
}
