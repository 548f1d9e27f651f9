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
  /** [textTokens.length] rows of [vocab] next-token probabilities. */
  readonly probabilities: readonly Float64Array[];
  /** The greedySteps tokens chosen after the prompt. */
  readonly greedy: readonly number[];
  /** Logit of the chosen token minus the runner-up's, per greedy step (how far each choice is from a tie). */
  readonly greedyMargins: readonly number[];
}

/** softmax of one row of logits, in float64. */
export function softmax64(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Index of the largest value and its lead over the second largest. */
export function topTwo(values: ArrayLike<number>): { best: number; margin: number } {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  let second = -Infinity;
  for (let i = 0; i < values.length; i++) if (i !== best) second = Math.max(second, values[i]!);
  return { best, margin: values[best]! - second };
}

/** The k most probable ids of a distribution, most probable first (ties: smaller id first). */
export function topK(probabilities: Float64Array, k: number): number[] {
  return Array.from(probabilities.keys())
    .sort((a, b) => probabilities[b]! - probabilities[a]! || a - b)
    .slice(0, k);
}
