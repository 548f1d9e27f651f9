/**
 * Bits per token for one allocation unit (a (layer, KV head) for group=head, a layer for group=layer): the K-bound
 * and V-bound of bitFormulas.ts turned into code widths, with the policy's exceptions:
 *   - sink tokens (positions < sinkTokens) are kept in full precision: FULL_PRECISION_BITS;
 *   - young tokens (fewer than n attention observations) get b_max: their importance is not known yet;
 *   - every other token: keys from the K-bound (shared σ_K, per-token range), values from the V-bound (per-token
 *     σ_V from s_t, per-token range).
 * Properties (tested): a larger tolerance never gives more bits, more attention never gives fewer value bits.
 */
import { ConfigError } from "../../util/errors.js";
import { checkBitRange, keySigmaBound, ratioOffset, ratioPerRange, valueSigmaBound, widthForRatio, type BitVariant } from "./bitFormulas.js";

/** Marks a token stored unquantized (sinks); not a code width. */
export const FULL_PRECISION_BITS = 16;

/** The fixed part of the policy (from the cache config). */
export interface BitPolicy {
  readonly minBits: number;
  readonly maxBits: number;
  readonly variant: BitVariant;
  /** the first `sinkTokens` positions are kept in full precision */
  readonly sinkTokens: number;
}

/** ε_K (bound on the std of each attention probability) and ε_V (bound on the std of the output). */
export interface Tolerances {
  readonly key: number;
  readonly value: number;
}

/** What the allocator knows about each of the unit's T tokens (arrays of at least T entries, index = position). */
export interface TokenEvidence {
  /** max − min of the token's key group, outliers excluded */
  readonly keyRange: Float32Array;
  /** max − min of the token's value group, outliers excluded */
  readonly valueRange: Float32Array;
  /** s_t: max of the token's last n attention observations */
  readonly attention: Float32Array;
  /** 1 for a token with fewer than n observations */
  readonly young: Uint8Array;
}

/** Per-token widths written by allocateBits, index = position: 0..8, or FULL_PRECISION_BITS for sinks. */
export interface TokenBits {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Validates a policy once, at the boundary (config parsing calls this too). */
export function checkBitPolicy(policy: BitPolicy): void {
  checkBitRange(policy.minBits, policy.maxBits);
  if (policy.variant !== "paper" && policy.variant !== "code") {
    throw new ConfigError("variant", '"paper" or "code"', policy.variant);
  }
  if (!Number.isSafeInteger(policy.sinkTokens) || policy.sinkTokens < 0) {
    throw new ConfigError("sinkTokens", "an integer ≥ 0", policy.sinkTokens);
  }
}

/**
 * Fills out.key / out.value [0..T) for the unit's T tokens. queryNormSq: the ‖Q‖² quantile of the scaled queries
 * (for group=layer, the largest over the layer's KV heads, so the bound holds for each head).
 */
export function allocateBits(
  policy: BitPolicy,
  tolerances: Tolerances,
  T: number,
  queryNormSq: number,
  evidence: TokenEvidence,
  out: TokenBits,
): void {
  const { minBits, maxBits, variant, sinkTokens } = policy;
  checkLengths(T, evidence, out);
  // One σ -> ratio factor per call instead of one division chain per token (same formulas as bitsForSigma):
  //   keys:   ratio = range · ratioPerRange(σ_K)
  //   values: ratio = range · ratioPerRange(σ_V,t) = range · s_t · ratioPerRange(ε_V / sqrt(T))   (σ_V,t = ε_V/(sqrt(T)·s_t))
  const keySigma = keySigmaBound(tolerances.key, T, queryNormSq);
  const keyFactor = keySigma === Infinity ? 0 : ratioPerRange(keySigma, variant);
  const valueSigmaAtFullAttention = valueSigmaBound(tolerances.value, T, 1);
  const valueFactor = valueSigmaAtFullAttention === Infinity ? 0 : ratioPerRange(valueSigmaAtFullAttention, variant);
  const offset = ratioOffset(variant);
  const sinks = Math.min(sinkTokens, T);
  out.key.fill(FULL_PRECISION_BITS, 0, sinks);
  out.value.fill(FULL_PRECISION_BITS, 0, sinks);
  for (let t = sinks; t < T; t++) {
    if (evidence.young[t] !== 0) {
      out.key[t] = maxBits;
      out.value[t] = maxBits;
      continue;
    }
    const keyRange = evidence.keyRange[t]!;
    out.key[t] = keyRange === 0 ? minBits : widthForRatio(keyRange * keyFactor + offset, minBits, maxBits);
    const valueRange = evidence.valueRange[t]!;
    const attention = evidence.attention[t]!;
    out.value[t] = valueRange === 0 || attention === 0 ? minBits : widthForRatio(valueRange * attention * valueFactor + offset, minBits, maxBits);
  }
}

function checkLengths(T: number, evidence: TokenEvidence, out: TokenBits): void {
  // no array of pairs per call: this runs once per allocation unit and decode step
  if (evidence.keyRange.length < T) lengthError("keyRange", T, evidence.keyRange.length);
  if (evidence.valueRange.length < T) lengthError("valueRange", T, evidence.valueRange.length);
  if (evidence.attention.length < T) lengthError("attention", T, evidence.attention.length);
  if (evidence.young.length < T) lengthError("young", T, evidence.young.length);
  if (out.key.length < T) lengthError("out.key", T, out.key.length);
  if (out.value.length < T) lengthError("out.value", T, out.value.length);
}

function lengthError(field: string, T: number, length: number): never {
  throw new ConfigError(field, `at least T = ${T} entries`, length);
}
