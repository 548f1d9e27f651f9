/**
 * QAQ's bit-width formulas (Dong et al. 2024, "QAQ: Quality Adaptive Quantization for LLM KV Cache", section 3;
 * docs: shared/docs/QAQ-METHOD.md section 2). Per layer and KV head, for one decode step with T cached tokens:
 *
 *   logits a_t = q·k_t (q already scaled by 1/sqrt(D), as the cache receives it), S = softmax(a), X = S·V.
 *
 * Values (bound on the output X): σ_X² = Σ_t S_t²·σ_V,t². Spreading the budget ε_V² equally over T tokens:
 *
 *     σ_V,t ≤ ε_V / (sqrt(T) · s_t)                                          (V-bound)
 *
 * Keys (bound on the attention S): noise of variance ‖Q‖²·σ_K² on a_t makes e^{a_t} log-normal, and
 * Var(S_t) ≈ (1/T²)(1 − 1/T)(e^{‖Q‖²σ_K²} − 1) (the paper prints an intermediate step of this upside down; Var/E²
 * is the right ratio). Asking Var(S_t) ≤ ε_K²:
 *
 *     σ_K² ≤ ln( T³/(T−1) · ε_K² + 1 ) / ‖Q‖²                               (K-bound)
 *
 * ‖Q‖² is the squared norm of the SCALED query q/sqrt(D): the paper drops the 1/sqrt(D) of the logits, we keep it.
 * T = 1 guard: with a single token S_1 = 1 whatever its key, so Var(S_t) = 0 for any σ_K (the expression above has
 * the factor (1 − 1/T) = 0, and T³/(T−1) → ∞ as T → 1): the bound is σ_K = ∞.
 *
 * σ -> bits. A token's included range [min, max] split into 2^B bins reconstructed at their midpoints has uniform
 * error σ = range / (2^B · 2·sqrt(3)); the smallest B meeting σ_t:
 *
 *   "paper":  B_t = clamp( ceil( log2( range_t / (2·sqrt(3)·σ_t) ) ),     b_min, b_max )
 *   "code":   B_t = clamp( ceil( log2( range_t / (4·sqrt(3)·σ_t) + 1 ) ), b_min, b_max )
 *
 * The "code" form is what the authors' released code computes: it turns σ into max_error = sqrt(12)·σ and takes
 * ceil(log2(range / (2·max_error) + 1)), i.e. a denominator twice the paper's and +1 inside the log2 (it never asks
 * for fewer than 1 bit while range > 0, and is about one bit cheaper for large ratios).
 * Edge cases: range 0 (a constant group) -> b_min; σ = ∞ (s_t = 0, T = 1, ‖Q‖² = 0, ε = ∞) -> b_min;
 * σ = 0 with range > 0 (ε = 0) -> b_max.
 */
import { ConfigError } from "../../util/errors.js";

export type BitVariant = "paper" | "code";

/** Bit range b_min..b_max: the packed layout stores widths 0..8. */
export const MAX_PACKED_BITS = 8;

// A bound computed in floating point can land a few ulps above an exact power of two (e.g. 2·sqrt(3)·(1/sqrt(3)));
// that rounding must not cost a whole bit, so ratios within this relative slack of 2^B count as 2^B.
const POWER_OF_TWO_SLACK = 1e-12;
/** [MAX_PACKED_BITS] 2^B·(1 + slack): the largest ratio B bits serve */
const POWERS_OF_TWO: readonly number[] = Array.from({ length: MAX_PACKED_BITS }, (_, b) => 2 ** b * (1 + POWER_OF_TWO_SLACK));

/** (V-bound) σ_V,t ≤ ε_V / (sqrt(T)·s_t); ∞ when the token receives no attention (s_t = 0). */
export function valueSigmaBound(valueTolerance: number, tokens: number, attention: number): number {
  checkTolerance("valueTolerance", valueTolerance);
  checkTokens(tokens);
  checkNonNegative("attention", attention);
  if (attention === 0 || valueTolerance === Infinity) return Infinity;
  return valueTolerance / (Math.sqrt(tokens) * attention);
}

/** (K-bound) σ_K = sqrt( ln(T³/(T−1)·ε_K² + 1) / ‖Q‖² ); ∞ for T = 1 (see file comment) or ‖Q‖² = 0. */
export function keySigmaBound(keyTolerance: number, tokens: number, queryNormSq: number): number {
  checkTolerance("keyTolerance", keyTolerance);
  checkTokens(tokens);
  checkNonNegative("queryNormSq", queryNormSq);
  if (tokens === 1 || queryNormSq === 0 || keyTolerance === Infinity) return Infinity;
  const growth = (tokens * tokens * tokens) / (tokens - 1);
  // log1p keeps precision when T³/(T−1)·ε_K² is tiny (small tolerances, short contexts)
  return Math.sqrt(Math.log1p(growth * keyTolerance * keyTolerance) / queryNormSq);
}

/** The smallest width b_min..b_max whose uniform error meets σ over `range` (see file comment). */
export function bitsForSigma(range: number, sigma: number, variant: BitVariant, minBits: number, maxBits: number): number {
  checkNonNegative("range", range);
  checkNonNegative("sigma", sigma);
  checkBitRange(minBits, maxBits);
  if (range === 0 || sigma === Infinity) return minBits;
  if (sigma === 0) return maxBits;
  return widthForRatio(range * ratioPerRange(sigma, variant) + ratioOffset(variant), minBits, maxBits);
}

/**
 * The σ -> bits step split for a caller that applies one σ to many ranges: ratio = range·ratioPerRange(σ) +
 * ratioOffset, then widthForRatio. "paper": 1/(2·sqrt(3)·σ) and 0; "code": 1/(4·sqrt(3)·σ) and 1.
 */
export function ratioPerRange(sigma: number, variant: BitVariant): number {
  switch (variant) {
    case "paper":
      return 1 / (2 * Math.sqrt(3) * sigma);
    case "code":
      return 1 / (4 * Math.sqrt(3) * sigma);
    default:
      throw new ConfigError("variant", '"paper" or "code"', variant satisfies never);
  }
}

export function ratioOffset(variant: BitVariant): number {
  return variant === "code" ? 1 : 0;
}

/**
 * The smallest B in b_min..b_max with 2^B ≥ ratio (b_max if none): at most 8 comparisons against POWERS_OF_TWO, no
 * log2, so a ratio a few ulps above a power of two is settled by the slack rather than by a logarithm's rounding.
 */
export function widthForRatio(ratio: number, minBits: number, maxBits: number): number {
  for (let bits = minBits; bits < maxBits; bits++) if (ratio <= POWERS_OF_TWO[bits]!) return bits;
  return maxBits;
}

/** b_min 0..8, b_max 1..8, b_min ≤ b_max (integers). */
export function checkBitRange(minBits: number, maxBits: number): void {
  if (!Number.isInteger(maxBits) || maxBits < 1 || maxBits > MAX_PACKED_BITS) {
    throw new ConfigError("maxBits", `an integer 1..${MAX_PACKED_BITS}`, maxBits);
  }
  if (!Number.isInteger(minBits) || minBits < 0 || minBits > maxBits) {
    throw new ConfigError("minBits", `an integer 0..maxBits (${maxBits})`, minBits);
  }
}

function checkTolerance(field: string, tolerance: number): void {
  if (Number.isNaN(tolerance) || tolerance < 0) throw new ConfigError(field, "a number ≥ 0 (may be Infinity)", tolerance);
}

function checkTokens(tokens: number): void {
  if (!Number.isSafeInteger(tokens) || tokens < 1) throw new ConfigError("tokens", "an integer ≥ 1", tokens);
}

function checkNonNegative(field: string, value: number): void {
  if (Number.isNaN(value) || value < 0) throw new ConfigError(field, "a number ≥ 0", value);
}
