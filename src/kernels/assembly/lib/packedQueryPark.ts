/**
 * Query rows rounded to int16 for the integer dot product (i32x4.dot_i16x8_s), kept in the caller's output buffer.
 *
 * The score kernels may not allocate and keep no static data, so their per-call scratch lives in the output slots
 * they are about to overwrite anyway: the last `pkParkSlots(nq, D)` tokens of the slice [begin, end). Those tokens
 * are scored last, by the float path that reads the f32 query, which overwrites the parked bytes with their
 * scores. Each thread parks inside its own slice, so threads never share scratch.
 *
 * Parking layout, bytes, starting at the output slot of token parkStart of query row i (out + 4·(i·T + parkStart)):
 *   row i:               qi_i  [D] i16  nearest(q_i / step_i), step_i = max_d |q_id| / 32767 (0 for a zero row)
 *   row 0, after qi_0:   step  [nq4] f32  step_i, then zeros up to nq4 = nq rounded up to 4
 *                        sum   [nq4] f32  Σ_d q_id, then zeros
 * So Σ_d q_id·c_d ≈ step_i · Σ_d qi_id·c_d with |q_id - step_i·qi_id| ≤ step_i/2 for every d.
 */

/** The largest int16, the range the rows are scaled to. */
const QI_MAX: f32 = 32767;

/** nq rounded up to a multiple of 4 (the step/sum arrays are read four queries at a time). */
// @ts-ignore: decorator
@inline export function pkQueryGroupPad(nq: i32): i32 {
  return (nq + 3) & ~3;
}

/** Output slots (f32 each) per query row that the parking needs: row 0 holds the most (D·2 + 8·nq4 bytes). */
// @ts-ignore: decorator
@inline export function pkParkSlots(nq: i32, D: i32): i32 {
  return ((D + 1) >> 1) + 2 * pkQueryGroupPad(nq);
}

/** Address of the parked int16 row of query i. */
// @ts-ignore: decorator
@inline export function pkParkedRow(out: usize, T: i32, parkStart: i32, i: i32): usize {
  return out + ((<usize>i * <usize>T + <usize>parkStart) << 2);
}

/** Address of the parked step array (f32 [nq4]); the sum array follows it at + 4·nq4. */
// @ts-ignore: decorator
@inline export function pkParkedSteps(out: usize, parkStart: i32, D: i32): usize {
  return out + (<usize>parkStart << 2) + (<usize>D << 1);
}

/**
 * Rounds the nq rows of q [nq, D] f32 to int16 and parks them, with their steps and sums, as described above.
 * D must be a multiple of 8 (the vector paths' condition).
 */
export function pkParkQueries(q: usize, out: usize, nq: i32, D: i32, T: i32, parkStart: i32): void {
  const steps = pkParkedSteps(out, parkStart, D);
  const sums = steps + (<usize>pkQueryGroupPad(nq) << 2);
  const rowBytes = <usize>D << 2;
  for (let i = 0; i < nq; i++) {
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
    const parked = pkParkedRow(out, T, parkStart, i);
    for (let at: usize = 0; at < rowBytes; at += 32) {
      const low = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + at), inverse)));
      const high = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(row + at, 16), inverse)));
      v128.store(parked + (at >> 1), i16x8.narrow_i32x4_s(low, high));
    }
    const sum = f32x4.extract_lane(total, 0) + f32x4.extract_lane(total, 1) +
      (f32x4.extract_lane(total, 2) + f32x4.extract_lane(total, 3));
    store<f32>(steps + (<usize>i << 2), top / QI_MAX);
    store<f32>(sums + (<usize>i << 2), sum);
  }
  for (let i = nq; i < pkQueryGroupPad(nq); i++) {
    store<f32>(steps + (<usize>i << 2), 0);
    store<f32>(sums + (<usize>i << 2), 0);
  }
}
