/**
 * References for the small row kernels, in float64 (each result rounded to f32 once, when stored).
 * Shapes as in kernelExports.ts.
 */

/** x, out: [nTok, dim] (may alias); weight: [dim]. out[t] = x[t] / sqrt(mean(x[t]²) + eps) ⊙ weight. */
export function rmsnormRef(x: Float32Array, weight: Float32Array, out: Float32Array, nTok: number, dim: number, eps: number): void {
  for (let t = 0; t < nTok; t++) {
    let sumSquares = 0;
    for (let i = 0; i < dim; i++) sumSquares += x[t * dim + i]! ** 2;
    const scale = 1 / Math.sqrt(sumSquares / dim + eps);
    for (let i = 0; i < dim; i++) out[t * dim + i] = x[t * dim + i]! * scale * weight[i]!;
  }
}

/**
 * x: [nTok, nHeads, headDim] in place; cosSin: [seqLen, headDim/2, 2] (cos, sin). Token t (position pos0 + t) has
 * each interleaved pair (a, b) = (x[2i], x[2i+1]) of every head rotated to (a·cos - b·sin, a·sin + b·cos).
 */
export function ropeRef(x: Float32Array, cosSin: Float32Array, pos0: number, nTok: number, nHeads: number, headDim: number): void {
  for (let t = 0; t < nTok; t++) {
    for (let h = 0; h < nHeads; h++) {
      for (let i = 0; i < headDim / 2; i++) {
        const at = (t * nHeads + h) * headDim + 2 * i;
        const cos = cosSin[(pos0 + t) * headDim + 2 * i]!;
        const sin = cosSin[(pos0 + t) * headDim + 2 * i + 1]!;
        const a = x[at]!;
        const b = x[at + 1]!;
        x[at] = a * cos - b * sin;
        x[at + 1] = a * sin + b * cos;
      }
    }
  }
}

/**
 * The NeoX layout: x [nTok, nHeads, headDim] in place, pair i of a head is (a, b) = (x[i], x[i + headDim/2]), rotated
 * by the (cos, sin) of table pair i to (a·cos - b·sin, a·sin + b·cos).
 */
export function ropeNeoxRef(x: Float32Array, cosSin: Float32Array, pos0: number, nTok: number, nHeads: number, headDim: number): void {
  const half = headDim / 2;
  for (let t = 0; t < nTok; t++) {
    for (let h = 0; h < nHeads; h++) {
      for (let i = 0; i < half; i++) {
        const at = (t * nHeads + h) * headDim + i;
        const cos = cosSin[(pos0 + t) * headDim + 2 * i]!;
        const sin = cosSin[(pos0 + t) * headDim + 2 * i + 1]!;
        const a = x[at]!;
        const b = x[at + half]!;
        x[at] = a * cos - b * sin;
        x[at + half] = a * sin + b * cos;
      }
    }
  }
}

/** Rows of x: [rows, cols] in place; -Infinity -> 0; a row of only -Infinity becomes zeros. */
export function softmaxRef(x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
    if (max === -Infinity) {
      row.fill(0);
      continue;
    }
    const exps = Array.from(row, (v) => Math.exp(v - max));
    const sum = exps.reduce((s, e) => s + e, 0);
    exps.forEach((e, i) => (row[i] = e / sum));
  }
}

/** gate[i] = silu(gate[i]) · up[i] for i < n, silu(g) = g / (1 + e^-g). */
export function swigluRef(gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) gate[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
}

/** x[i] += y[i] for i < n. */
export function addRef(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] = x[i]! + y[i]!;
}

/** x: [nTok, cols] in place, bias: [cols]; x[t, i] += bias[i]. */
export function addBiasRef(x: Float32Array, bias: Float32Array, nTok: number, cols: number): void {
  for (let t = 0; t < nTok; t++) for (let i = 0; i < cols; i++) x[t * cols + i] = x[t * cols + i]! + bias[i]!;
}
