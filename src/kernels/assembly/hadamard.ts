/**
 * Randomized Walsh-Hadamard rotation of rows of D values (D a power of two), in place, for rotated KV caches:
 *   forward  y = (1/sqrt(D)) · H · diag(s) · x        (keys and values before quantization, and queries)
 *   inverse  x = diag(s) · (1/sqrt(D)) · H · y        (the attention output, rotated back)
 * H is the D x D Hadamard matrix (H·H = D·I), s ∈ {±1}^D the seeded sign flips of the row's stream (layer, KV head),
 * so R = H·diag(s)/sqrt(D) is orthonormal and q·k = (Rq)·(Rk). The fast transform takes log2(D) butterfly stages of
 * D/2 add/subtract pairs: O(D log D) per row.
 * Rows r in [begin, end) of x ([rows, D] f32) belong to KV head headBase + r % headCount (appended tokens:
 * headBase 0, headCount nKvHeads; one head's queries or outputs: headBase = that head, headCount 1).
 * Reference: src/kernels/reference/hadamardRef.ts (same sign hash).
 */

/** Sign flip of dimension d in stream (layer, head): bit 0 of a 32-bit integer mix (hadamardRef.ts: signFlipRef). */
// @ts-ignore: decorator
@inline
function flips(seed: u32, stream: u32, d: u32): bool {
  let x: u32 = seed ^ (stream * 0x9e3779b1) ^ (d * 0x85ebca77);
  x ^= x >> 15;
  x *= 0x2c1b3c6d;
  x ^= x >> 12;
  x *= 0x297a2d39;
  x ^= x >> 15;
  return (x & 1) != 0;
}

/** x[d] *= ±scale, the sign of dimension d in `stream`. */
// @ts-ignore: decorator
@inline
function signScale(row: usize, D: i32, seed: u32, stream: u32, scale: f32): void {
  for (let d = 0; d < D; d++) {
    const p = row + (<usize>d << 2);
    const v = load<f32>(p) * scale;
    store<f32>(p, flips(seed, stream, <u32>d) ? -v : v);
  }
}

/** In-place unnormalized fast Walsh-Hadamard transform of D floats (natural, Sylvester order). */
function fwht(row: usize, D: i32): void {
  if (D >= 2) {
    for (let i = 0; i < D; i += 2) {
      const p = row + (<usize>i << 2);
      const a = load<f32>(p);
      const b = load<f32>(p, 4);
      store<f32>(p, a + b);
      store<f32>(p, a - b, 4);
    }
  }
  if (D >= 4) {
    for (let i = 0; i < D; i += 4) {
      const p = row + (<usize>i << 2);
      const a0 = load<f32>(p);
      const a1 = load<f32>(p, 4);
      const b0 = load<f32>(p, 8);
      const b1 = load<f32>(p, 12);
      store<f32>(p, a0 + b0);
      store<f32>(p, a1 + b1, 4);
      store<f32>(p, a0 - b0, 8);
      store<f32>(p, a1 - b1, 12);
    }
  }
  for (let h = 4; h < D; h <<= 1) {
    const hb = <usize>h << 2;
    for (let i = 0; i < D; i += h << 1) {
      const base = row + (<usize>i << 2);
      for (let j: usize = 0; j < hb; j += 16) {
        const a = v128.load(base + j);
        const b = v128.load(base + j + hb);
        v128.store(base + j, f32x4.add(a, b));
        v128.store(base + j + hb, f32x4.sub(a, b));
      }
    }
  }
}

export function hadamard_rows(
  begin: i32, end: i32, x: usize, D: i32, seed: u32, layer: i32, headBase: i32, headCount: i32, inverse: i32,
): void {
  const scale = <f32>(1.0 / Math.sqrt(<f64>D));
  const rowBytes = <usize>D << 2;
  for (let r = begin; r < end; r++) {
    const row = x + <usize>r * rowBytes;
    const stream = (<u32>layer << 16) | <u32>(headBase + (r % headCount));
    if (inverse != 0) {
      fwht(row, D);
      signScale(row, D, seed, stream, scale);
    } else {
      signScale(row, D, seed, stream, scale);
      fwht(row, D);
    }
  }
}
