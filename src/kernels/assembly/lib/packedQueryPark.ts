/**
 * Query rows rounded to int16 for the integer dot product (i32x4.dot_i16x8_s), kept in the caller's output buffer.
 *
 * The score kernels may not allocate and keep no static data, so their per-call scratch lives in the output slots
 * they are about to overwrite anyway: the last `pkParkSlots(nq, D)` tokens of the slice [begin, end) of every query
 * row. Those tokens are scored last, by the float path that reads the f32 query, which overwrites the parked bytes
 * with their scores. Each thread parks inside its own slice, so threads never share scratch.
 *
 * Rounding: qi = nearest(q / step), step = max_d |q_d| / 32767 (0 for a zero row), so |q_d - step·qi_d| ≤ step/2
 * and Σ_d q_d·w_d ≈ step·Σ_d qi_d·w_d. For codes c, the centred sum Σ qi·(c - mid) = Σ qi·c - mid·isum is exact in
 * i32 for D ≤ 256 (|Σ qi·c| ≤ 32767·255·256 < 2^31).
 *
 * Layout. Queries are taken in groups of G = 8 (while 8 remain), then 4, then 1; a kernel scores one group per pass.
 * Chunk j (dimensions 8j..8j+7) of a group is one block of G × 8 i16 (query k of the group at byte 16k), so one
 * pointer with immediate offsets reaches all G rows. The C = D/8 blocks of a group starting at query i0 go
 * perRow = ceil(C/G) to a row, into the parking of rows i0, i0+1, ... (row r at out + 4·(r·T + parkStart)):
 *   row i0 + floor(j / perRow), byte (j mod perRow)·16·G:   block j of the group
 *   row i0, from byte 128·ceil(C/8) (past any group's blocks), query k of the group at + 4k:
 *     step [8] f32, then sum [8] f32 (Σ_d q_d) at + 32, then isum [8] i32 (Σ_d qi_d) at + 64
 * So the parking takes 32·ceil(C/8) + 24 slots of every row, whatever nq (prefill blocks have hundreds of rows).
 */

/** The largest int16, the range the rows are scaled to. */
const QI_MAX: f32 = 32767;

/** Widest head the integer dot products take (the i32 bound above). */
export const PK_INT_DOT_MAX_DIM: i32 = 256;

/** Size of the query group that starts at query i. */
// @ts-ignore: decorator
@inline export function pkQueryGroupSize(i: i32, nq: i32): i32 {
  return nq - i >= 8 ? 8 : nq - i >= 4 ? 4 : 1;
}

/** Chunk blocks per parked row for a group of G queries. */
// @ts-ignore: decorator
@inline export function pkChunksPerRow(G: i32, D: i32): i32 {
  return ((D >> 3) + G - 1) / G;
}

/** Bytes of row 0 before the step array: room for the blocks of any group size. */
// @ts-ignore: decorator
@inline function blockBytesPerRow(D: i32): usize {
  return <usize>pkChunksPerRow(8, D) << 7;
}

/** Output slots (f32 each) per query row that the parking needs. */
// @ts-ignore: decorator
@inline export function pkParkSlots(D: i32): i32 {
  return (pkChunksPerRow(8, D) << 5) + 24;
}

/** Byte distance between a group's step, sum and isum arrays. */
export const PK_PARKED_ARRAY_BYTES: usize = 32;

/** Address of the parking of query row r. */
// @ts-ignore: decorator
@inline export function pkParkedRow(out: usize, T: i32, parkStart: i32, r: i32): usize {
  return out + ((<usize>r * <usize>T + <usize>parkStart) << 2);
}

/** Address of the step array of the group that starts at query i0 (sum, isum: + 32, + 64; query k at + 4k). */
// @ts-ignore: decorator
@inline export function pkParkedSteps(out: usize, T: i32, parkStart: i32, i0: i32, D: i32): usize {
  return pkParkedRow(out, T, parkStart, i0) + blockBytesPerRow(D);
}

/** Rounds the nq rows of q [nq, D] f32 (D a multiple of 8) to int16 and parks them as described above. */
export function pkParkQueries(q: usize, out: usize, nq: i32, D: i32, T: i32, parkStart: i32): void {
  const rowBytes = <usize>D << 2;
  const rowStride = <usize>T << 2;
  let i0 = 0;
  while (i0 < nq) {
    const G = pkQueryGroupSize(i0, nq);
    const perRow = pkChunksPerRow(G, D);
    const steps = pkParkedSteps(out, T, parkStart, i0, D);
    for (let k = 0; k < G; k++) {
      const i = i0 + k;
      const row = q + <usize>i * rowBytes;
      let peak = f32x4.splat(0);
      let total = f32x4.splat(0);
      for (let at: usize = 0; at < rowBytes; at += 16) {
        const x = v128.load(row + at);
        peak = f32x4.max(peak, f32x4.abs(x));
        total = f32x4.add(total, x);
      }
      const top = Mathf.max(
        Mathf.max(f32x4.extract_lane(peak, 0), f32x4.extract_lane(peak, 1)),
        Mathf.max(f32x4.extract_lane(peak, 2), f32x4.extract_lane(peak, 3)),
      );
      const inverse = f32x4.splat(top > 0 ? QI_MAX / top : 0);
      let integerTotal = i32x4.splat(0);
      let rowStart = pkParkedRow(out, T, parkStart, i0);
      let block = rowStart + (<usize>k << 4);
      let left = perRow;
      for (let at: usize = 0; at < rowBytes; at += 32) {
        const low = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + at), inverse)));
        const high = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + at, 16), inverse)));
        v128.store(block, i16x8.narrow_i32x4_s(low, high));
        integerTotal = i32x4.add(integerTotal, i32x4.add(low, high));
        block += <usize>G << 4;
        if (--left == 0) {
          rowStart += rowStride;
          block = rowStart + (<usize>k << 4);
          left = perRow;
        }
      }
      const sum = f32x4.extract_lane(total, 0) + f32x4.extract_lane(total, 1) +
        (f32x4.extract_lane(total, 2) + f32x4.extract_lane(total, 3));
      const isum = i32x4.extract_lane(integerTotal, 0) + i32x4.extract_lane(integerTotal, 1) +
        i32x4.extract_lane(integerTotal, 2) + i32x4.extract_lane(integerTotal, 3);
      const at = steps + (<usize>k << 2);
      store<f32>(at, top / QI_MAX);
      store<f32>(at + PK_PARKED_ARRAY_BYTES, sum);
      store<i32>(at + 2 * PK_PARKED_ARRAY_BYTES, isum);
    }
    i0 += G;
  }
}
