/**
 * QAQ's attention window (paper section 3.4): the predicted future attention of a cached token t is the maximum of
 * its last n attention observations,
 *
 *     s_t = max_{τ−n < τ' ≤ τ} S_{τ', t}.
 *
 * What one observation is (the paper is silent for blocks; our definition): every query ROW is one observation
 * step, in position order, and its value for token t is the max over the query heads sharing the KV head of that
 * row's probability of t. A decode step is one row; a prefill block of nTok rows is nTok steps, so after a prompt the
 * window holds exactly the last n query rows of the prefill (the paper's prompt protocol). Only the last n rows of a
 * block can survive in the window, so earlier rows are skipped at no loss. A row only observes the tokens it may see
 * (position ≤ the row's): a token seen by fewer than n rows so far is "young" (the caller keeps it at b_max).
 *
 * Storage per unit (unit = layer*nKvHeads + kvHead), grown in steps of WINDOW_STEP tokens as they arrive:
 *   ring     Uint8Array [capacity, n]  ring[t*n + (step mod n)] = code of token t's observation at that step
 *   top      Uint8Array [capacity]     max of token t's ring, kept as slots are written (s_t without a scan)
 *   observed Uint8Array [capacity]     observations of t so far, saturated at n
 *   steps                              rows observed so far by the unit (selects the ring slot)
 * Observations are stored as one-byte codes (a 5-bit exponent, 3-bit mantissa minifloat of the probability, read
 * straight from its float32 bits): code 0 is 0 (and anything below 2^-31, where σ_V is unbounded anyway), codes
 * 1..249 cover [2^-31, 1] in eighths of an octave and decode to the UPPER edge of their bin, so a decoded s_t is never
 * below the observation and at most 12.5% above it (a conservative error worth at most 0.17 bits). Codes are ordered
 * like the probabilities, so the max of codes is the code of the max. One byte instead of four per observation keeps
 * the window, which QAQ holds for every (token, KV head), at 7 bytes per token and head (ring, running max, count).
 * A unit may be shared by several KV heads (group=layer keeps one window per layer, as s_t is a max over the layer's
 * heads anyway): observing the block a unit has just observed again merges, taking the max into the same slots
 * without counting new observations, so each observation is the max over all the unit's query heads.
 * observe costs O(T·nRep) per kept row (plus an O(n) rescan for a token whose evicted slot held its max); maxima
 * O(T). Truncation forgets the dropped tokens but not what the
 * rolled-back rows contributed to the kept tokens' rings (those rows did run; the ring cannot un-see them).
 */
import { ConfigError } from "../../util/errors.js";
import { LARGEST_CODE, SMALLEST_CODED, windowCodesRef } from "../../kernels/reference/windowCodesRef.js";

/**
 * The codes of one query row: out[t] = code of max_rep probs[row + rep·T + t] for t < visible (rows [nRep, T] from
 * index `row` of probs). The window's own JavaScript coder is the reference; QaqCache plugs in the wasm kernel
 * (windowCoder.ts), which gives the same bytes.
 */
export interface RowCoder {
  codes(probs: Float32Array, row: number, nRep: number, T: number, visible: number): Uint8Array;
}

/** The positions a block of probabilities covers; rows are [nTok*nRep, T], row = tok*nRep + rep. */
export interface ObservedBlock {
  readonly firstPos: number;
  readonly nTok: number;
  readonly nRep: number;
}

/** Largest window: the observation counter is a u8 and the ring costs n bytes per token. */
export const MAX_WINDOW = 64;
/** Per-token arrays grow in steps of this many tokens (slack below one step, no doubling). */
const WINDOW_STEP = 32;

/** Token capacity of a unit's arrays for T tokens. */
function windowCapacity(T: number, maxTokens: number): number {
  return Math.max(T, Math.min(maxTokens, Math.ceil(T / WINDOW_STEP) * WINDOW_STEP));
}


export class AttentionWindow {
  private readonly rings: Uint8Array[] = [];
  private readonly tops: Uint8Array[] = [];
  /** [256] decoded value of each code (upper edge of its bin, at most 1) */
  private readonly decoded: Float32Array;
  private readonly observed: Uint8Array[] = [];
  /** [units] rows observed so far (ring slot = steps mod n) */
  private readonly steps: Float64Array;
  /** [units] tokens tracked (0..T) */
  private readonly tracked: Int32Array;
  /** [units] firstPos and nTok of the unit's last observed block (firstPos −1: none), to recognise a merge */
  private readonly lastFirstPos: Int32Array;
  private readonly lastTokens: Int32Array;

  constructor(
    readonly units: number,
    /** n: observations kept per token */
    readonly window: number,
    /** most tokens a unit will hold (caps the doubling growth) */
    private readonly maxTokens: number,
    private readonly coder: RowCoder = new JsRowCoder(),
  ) {
    if (!Number.isInteger(units) || units < 1) throw new ConfigError("units", "an integer ≥ 1", units);
    if (!Number.isInteger(window) || window < 1 || window > MAX_WINDOW) {
      throw new ConfigError("window", `an integer 1..${MAX_WINDOW}`, window);
    }
    this.decoded = new Float32Array(LARGEST_CODE + 1);
    for (let code = 1; code <= LARGEST_CODE; code++) {
      const j = code - 1 + SMALLEST_CODED;
      this.decoded[code] = Math.min(1, 2 ** ((j >> 3) - 127) * (1 + ((j & 7) + 1) / 8));
    }
    for (let u = 0; u < units; u++) {
      this.rings.push(new Uint8Array(0));
      this.tops.push(new Uint8Array(0));
      this.observed.push(new Uint8Array(0));
    }
    this.steps = new Float64Array(units);
    this.tracked = new Int32Array(units);
    this.lastFirstPos = new Int32Array(units).fill(-1);
    this.lastTokens = new Int32Array(units);
  }

  /** Tokens tracked for `unit` (the T of its last observation, or less after truncate). */
  tokens(unit: number): number {
    return this.tracked[this.checkUnit(unit)]!;
  }

  /**
   * Records a block's attention: probs [nTok*nRep, T] over the T = firstPos + nTok cached tokens (token index =
   * position). New tokens start with an empty ring. The same block again (another head of a shared unit) merges.
   */
  observe(unit: number, probs: Float32Array, block: ObservedBlock, T: number): void {
    this.checkUnit(unit);
    const { firstPos, nTok, nRep } = block;
    if (firstPos + nTok !== T) throw new ConfigError("block", `firstPos + nTok = T (${T})`, `${firstPos} + ${nTok}`);
    if (probs.length < nTok * nRep * T) throw new ConfigError("probs", `at least ${nTok * nRep * T} values`, probs.length);
    this.track(unit, T);
    const merge = this.lastFirstPos[unit] === firstPos && this.lastTokens[unit] === nTok;
    this.lastFirstPos[unit] = firstPos;
    this.lastTokens[unit] = nTok;
    const n = this.window;
    const ring = this.rings[unit]!;
    const top = this.tops[unit]!;
    const observed = this.observed[unit]!;
    // a merge writes the slots the block's rows took: row tok had step (steps − nTok + tok)
    const firstStep = merge ? this.steps[unit]! - nTok : this.steps[unit]!;
    for (let tok = Math.max(0, nTok - n); tok < nTok; tok++) {
      const slot = (firstStep + tok) % n;
      const visible = firstPos + tok + 1; // tokens 0..row position
      const codes = this.coder.codes(probs, tok * nRep * T, nRep, T, visible);
      for (let t = 0; t < visible; t++) {
        const code = codes[t]!;
        const at = t * n + slot;
        if (merge) {
          if (code > ring[at]!) {
            ring[at] = code;
            if (code > top[t]!) top[t] = code;
          }
          continue;
        }
        const evicted = ring[at]!;
        ring[at] = code;
        if (observed[t]! < n) observed[t]!++;
        if (code >= top[t]!) top[t] = code;
        else if (evicted === top[t]!) top[t] = ringMax(ring, t * n, n);
      }
      // a token this row cannot see keeps 0 in this slot (set when it was tracked): no observation
    }
    if (!merge) this.steps[unit]! += nTok;
  }

  /** out[0..T) = s_t, the maximum of each token's kept observations, decoded (0 for a token never observed). */
  maxAttention(unit: number, out: Float32Array): void {
    const T = this.tokens(unit);
    if (out.length < T) throw new ConfigError("out", `at least ${T} values`, out.length);
    const top = this.tops[unit]!;
    for (let t = 0; t < T; t++) out[t] = this.decoded[top[t]!]!;
  }

  /** out[0..T) = 1 for a young token (fewer than n observations), else 0. */
  youngTokens(unit: number, out: Uint8Array): void {
    const T = this.tokens(unit);
    if (out.length < T) throw new ConfigError("out", `at least ${T} values`, out.length);
    const observed = this.observed[unit]!;
    for (let t = 0; t < T; t++) out[t] = observed[t]! < this.window ? 1 : 0;
  }

  /** Forgets every token at index ≥ `tokens` in every unit. */
  truncate(tokens: number): void {
    for (let u = 0; u < this.units; u++) if (this.tracked[u]! > tokens) this.tracked[u] = Math.max(0, tokens);
    this.lastFirstPos.fill(-1); // the next block starts anew, even at a position seen before
  }

  /** Forgets everything (keeps the allocations). */
  reset(): void {
    this.tracked.fill(0);
    this.steps.fill(0);
    this.lastFirstPos.fill(-1);
  }

  /**
   * Bytes the tracked tokens need: their rings, running maxima and counts, and the per-unit counters (bookkeeping,
   * reported as hot metadata). byteLength − liveBytes is the arrays' room beyond them (slack).
   */
  get liveBytes(): number {
    let bytes = this.steps.byteLength + this.tracked.byteLength + this.lastFirstPos.byteLength + this.lastTokens.byteLength;
    for (let u = 0; u < this.units; u++) bytes += this.tracked[u]! * (this.window + 2);
    return bytes;
  }

  /** Bytes held by the rings and counters, room included. */
  get byteLength(): number {
    let bytes = this.steps.byteLength + this.tracked.byteLength + this.lastFirstPos.byteLength + this.lastTokens.byteLength;
    for (let u = 0; u < this.units; u++) bytes += this.rings[u]!.byteLength + this.tops[u]!.byteLength + this.observed[u]!.byteLength;
    return bytes;
  }

  /** liveBytes once every unit tracks T tokens (for the budget's feasibility check). */
  bytesFor(T: number): number {
    const fixed = this.steps.byteLength + this.tracked.byteLength + this.lastFirstPos.byteLength + this.lastTokens.byteLength;
    return fixed + this.units * T * (this.window + 2);
  }

  /** Starts tracking tokens up to T, each with an empty ring and no observation. */
  private track(unit: number, T: number): void {
    const from = this.tracked[unit]!;
    if (T <= from) return;
    const n = this.window;
    if (T > this.observed[unit]!.length) {
      const capacity = windowCapacity(T, this.maxTokens);
      const ring = new Uint8Array(capacity * n);
      ring.set(this.rings[unit]!.subarray(0, from * n));
      const observed = new Uint8Array(capacity);
      observed.set(this.observed[unit]!.subarray(0, from));
      const top = new Uint8Array(capacity);
      top.set(this.tops[unit]!.subarray(0, from));
      this.rings[unit] = ring;
      this.observed[unit] = observed;
      this.tops[unit] = top;
    }
    this.rings[unit]!.fill(0, from * n, T * n);
    this.observed[unit]!.fill(0, from, T);
    this.tops[unit]!.fill(0, from, T);
    this.tracked[unit] = T;
  }

  private checkUnit(unit: number): number {
    if (!Number.isInteger(unit) || unit < 0 || unit >= this.units) throw new ConfigError("unit", `0..${this.units - 1}`, unit);
    return unit;
  }
}

/** Largest of ring[at .. at + n). */
function ringMax(ring: Uint8Array, at: number, n: number): number {
  let max = 0;
  for (let i = at; i < at + n; i++) if (ring[i]! > max) max = ring[i]!;
  return max;
}

/** The reference coder (kernels/reference/windowCodesRef.ts), on JavaScript arrays. */
class JsRowCoder implements RowCoder {
  /** [T] per token, the largest float32 bits (as int32) over the row's heads */
  private top = new Int32Array(0);
  /** [T] the row's codes */
  private out = new Uint8Array(0);

  codes(probs: Float32Array, row: number, nRep: number, T: number, visible: number): Uint8Array {
    if (this.top.length < visible) {
      this.top = new Int32Array(Math.max(visible, 2 * this.top.length));
      this.out = new Uint8Array(this.top.length);
    }
    windowCodesRef(new Int32Array(probs.buffer, probs.byteOffset + row * 4, nRep * T), nRep, T, visible, this.top, this.out);
    return this.out;
  }
}
