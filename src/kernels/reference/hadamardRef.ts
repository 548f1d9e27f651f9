/**
 * Reference of the randomized Walsh-Hadamard rotation (kernels/assembly/hadamard.ts), in float64 with each result
 * rounded to f32 once, when stored:
 *   forward  y = (1/sqrt(D)) · H · diag(s) · x,   inverse  x = diag(s) · (1/sqrt(D)) · H · y
 * H_ij = (-1)^popcount(i & j) (Sylvester's Hadamard matrix, H·H = D·I), s_d = -1 where signFlipRef says so.
 * Written as the plain matrix product (O(D²)), not the butterfly, so it checks the kernel's fast transform too.
 */

/** Whether dimension d of stream (layer, head) is negated: bit 0 of a 32-bit integer mix of seed, stream and d. */
export function signFlipRef(seed: number, layer: number, head: number, d: number): boolean {
  const stream = ((layer << 16) | head) >>> 0;
  let x = (seed ^ Math.imul(stream, 0x9e3779b1) ^ Math.imul(d, 0x85ebca77)) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  x = (x ^ (x >>> 12)) >>> 0;
  x = Math.imul(x, 0x297a2d39) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  return (x & 1) !== 0;
}

function hadamardEntry(i: number, j: number): number {
  let bits = i & j;
  let parity = 0;
  while (bits !== 0) {
    parity ^= bits & 1;
    bits >>>= 1;
  }
  return parity === 0 ? 1 : -1;
}

/**
 * Rows r in [0, rows) of x ([rows, D], in place) rotated as hadamard_rows does: row r belongs to KV head
 * headBase + r % headCount of `layer`.
 */
export function hadamardRowsRef(
  x: Float32Array, rows: number, D: number, seed: number, layer: number, headBase: number, headCount: number, inverse: boolean,
): void {
  const scale = 1 / Math.sqrt(D);
  const input = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const head = headBase + (r % headCount);
    const sign = (d: number) => (signFlipRef(seed, layer, head, d) ? -1 : 1);
    for (let d = 0; d < D; d++) input[d] = x[r * D + d]! * (inverse ? 1 : sign(d));
    for (let i = 0; i < D; i++) {
      let sum = 0;
      for (let j = 0; j < D; j++) sum += hadamardEntry(i, j) * input[j]!;
      x[r * D + i] = sum * scale * (inverse ? sign(i) : 1);
    }
  }
}
