/**
 * Prefill matmul for float weights: out[t, r] = Σ_c W[r,c]·x[t,c] for weight rows r in [begin, end) and all tokens.
 * w: [rows, cols] f32 | f16 | bf16; x: [nTok, cols] f32; out: [nTok, rows] f32.
 *
 * Register tile: 2 weight rows x 4 tokens (8 accumulators), so each weight vector is loaded (and, for f16/bf16,
 * converted) once per 4 tokens and each activation vector once per 2 rows. Loop order: token chunks, then row
 * pairs, then the token tiles of the chunk: the chunk's activations (TOKEN_CHUNK x cols x 4 bytes) stay in L2 while
 * the weights stream once per chunk. Leftover rows use 1 x 4 tiles; leftover tokens (nTok % 4) use the matvec kernel.
 */
import { F32, F16, BF16, weightBytes, loadWeights4, loadWeight } from "./lib/floatWeights";
import { hsum4F32 } from "./lib/reduce";
import { matvec_f32, matvec_f16, matvec_bf16 } from "./matvecFloat";

/** Tokens whose activations are reused from cache across all row pairs of a slice. */
const TOKEN_CHUNK = 32;

export function matmul_f32(begin: i32, end: i32, w: usize, x: usize, out: usize, cols: i32, rows: i32, nTok: i32): void {
  matmulFloat(F32, begin, end, w, x, out, cols, rows, nTok);
}

export function matmul_f16(begin: i32, end: i32, w: usize, x: usize, out: usize, cols: i32, rows: i32, nTok: i32): void {
  matmulFloat(F16, begin, end, w, x, out, cols, rows, nTok);
}

export function matmul_bf16(begin: i32, end: i32, w: usize, x: usize, out: usize, cols: i32, rows: i32, nTok: i32): void {
  matmulFloat(BF16, begin, end, w, x, out, cols, rows, nTok);
}

// @ts-ignore: decorator
@inline function matmulFloat(kind: i32, begin: i32, end: i32, w: usize, x: usize, out: usize, cols: i32, rows: i32, nTok: i32): void {
  const rowBytes = <usize>cols * weightBytes(kind);
  const xRowBytes = <usize>cols << 2;
  const outRowBytes = <usize>rows << 2;
  const tiledTokens = nTok & ~3;
  for (let t0 = 0; t0 < tiledTokens; t0 += TOKEN_CHUNK) {
    const t1 = min(t0 + TOKEN_CHUNK, tiledTokens);
    let r = begin;
    for (; r + 2 <= end; r += 2) {
      for (let t = t0; t < t1; t += 4) {
        tile(kind, 2, w + <usize>r * rowBytes, rowBytes, x + <usize>t * xRowBytes, xRowBytes,
          out + <usize>t * outRowBytes + (<usize>r << 2), outRowBytes, cols);
      }
    }
    if (r < end) {
      for (let t = t0; t < t1; t += 4) {
        tile(kind, 1, w + <usize>r * rowBytes, rowBytes, x + <usize>t * xRowBytes, xRowBytes,
          out + <usize>t * outRowBytes + (<usize>r << 2), outRowBytes, cols);
      }
    }
  }
  for (let t = tiledTokens; t < nTok; t++) {
    const xt = x + <usize>t * xRowBytes;
    const outT = out + <usize>t * outRowBytes;
    if (kind == F32) matvec_f32(begin, end, w, xt, outT, cols);
    else if (kind == F16) matvec_f16(begin, end, w, xt, outT, cols);
    else matvec_bf16(begin, end, w, xt, outT, cols);
  }
}

/**
 * One tile of `tileRows` (1 or 2, constant) weight rows at w x 4 tokens at x; writes out[t*rows + r] for the tile
 * (out points at the tile's first token and row).
 */
// @ts-ignore: decorator
@inline function tile(kind: i32, tileRows: i32, w: usize, rowBytes: usize, x: usize, xRowBytes: usize, out: usize, outRowBytes: usize, cols: i32): void {
  const wb = weightBytes(kind);
  const x0 = x;
  const x1 = x0 + xRowBytes;
  const x2 = x1 + xRowBytes;
  const x3 = x2 + xRowBytes;
  const w1 = w + rowBytes;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const xo = <usize>c << 2;
    const wo = <usize>c * wb;
    const wa = loadWeights4(kind, w + wo);
    const v0 = v128.load(x0 + xo);
    const v1 = v128.load(x1 + xo);
    const v2 = v128.load(x2 + xo);
    const v3 = v128.load(x3 + xo);
    a0 = f32x4.add(a0, f32x4.mul(wa, v0));
    a1 = f32x4.add(a1, f32x4.mul(wa, v1));
    a2 = f32x4.add(a2, f32x4.mul(wa, v2));
    a3 = f32x4.add(a3, f32x4.mul(wa, v3));
    if (tileRows == 2) {
      const wbv = loadWeights4(kind, w1 + wo);
      b0 = f32x4.add(b0, f32x4.mul(wbv, v0));
      b1 = f32x4.add(b1, f32x4.mul(wbv, v1));
      b2 = f32x4.add(b2, f32x4.mul(wbv, v2));
      b3 = f32x4.add(b3, f32x4.mul(wbv, v3));
    }
  }
  // sa[t] = row 0 . token t, sb[t] = row 1 . token t
  let sa = hsum4F32(a0, a1, a2, a3);
  let sb = tileRows == 2 ? hsum4F32(b0, b1, b2, b3) : f32x4.splat(0);
  for (; c < cols; c++) {
    const xo = <usize>c << 2;
    let xc = f32x4.splat(load<f32>(x0 + xo));
    xc = f32x4.replace_lane(xc, 1, load<f32>(x1 + xo));
    xc = f32x4.replace_lane(xc, 2, load<f32>(x2 + xo));
    xc = f32x4.replace_lane(xc, 3, load<f32>(x3 + xo));
    sa = f32x4.add(sa, f32x4.mul(f32x4.splat(loadWeight(kind, w + <usize>c * wb)), xc));
    if (tileRows == 2) sb = f32x4.add(sb, f32x4.mul(f32x4.splat(loadWeight(kind, w1 + <usize>c * wb)), xc));
  }
  storeTokens(out, outRowBytes, sa);
  if (tileRows == 2) storeTokens(out + 4, outRowBytes, sb);
}

/** Scatters the 4 token lanes of v down an output column (stride outRowBytes). */
// @ts-ignore: decorator
@inline function storeTokens(out: usize, outRowBytes: usize, v: v128): void {
  store<f32>(out, f32x4.extract_lane(v, 0));
  store<f32>(out + outRowBytes, f32x4.extract_lane(v, 1));
  store<f32>(out + 2 * outRowBytes, f32x4.extract_lane(v, 2));
  store<f32>(out + 3 * outRowBytes, f32x4.extract_lane(v, 3));
}
