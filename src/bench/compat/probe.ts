/**
 * What one engine reports about one model for the compatibility check, and the arithmetic both sides share:
 * next-token probabilities are softmax(logits) in float64, computed here from each engine's raw f32 logits.
 */

/** The text run and the greedy run, as token ids (ids, not text, are compared). */
export interface ProbeInput {
  /** Fed as one sequence from position 0; a distribution is read after every token. */
  readonly textTokens: readonly number[];
  /** Prompt of the greedy run (from position 0 in a fresh sequence). */
  readonly greedyPrompt: readonly number[];
  readonly greedySteps: number;
}

export interface ProbeResult {
  /**
   * [textTokens.length] rows of [vocab] next-token probabilities, computed in float64 and stored as float32 (rounding
   * below 1e-7, far inside the 1e-3 compared; a 151669-id vocabulary would need 310 MB per run in float64).
   */
  readonly probabilities: readonly Float32Array[];
  /** The greedySteps tokens chosen after the prompt. */
  readonly greedy: readonly number[];
  /** Logit of the chosen token minus the runner-up's, per greedy step (how far each choice is from a tie). */
  readonly greedyMargins: readonly number[];
}

/** softmax of one row of logits: p_i = exp(l_i - max) / Σ_j exp(l_j - max), summed in float64. */
export function softmax64(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(logits[i]! - max) / sum;
  return out;
}

/** The largest value of a row (a loop: spreading 151669 values into Math.max overflows the stack). */
export function maxOf(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]!);
  return max;
}

/** Index of the largest value and its lead over the second largest. */
export function topTwo(values: ArrayLike<number>): { best: number; margin: number } {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  let second = -Infinity;
  for (let i = 0; i < values.length; i++) if (i !== best) second = Math.max(second, values[i]!);
  return { best, margin: values[best]! - second };
}

/** The k most probable ids of a distribution, most probable first (ties: smaller id first); one pass, k small. */
export function topK(probabilities: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (best.length === k && p <= probabilities[best[k - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && p > probabilities[best[at - 1]!]!) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}
