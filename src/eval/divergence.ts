/**
 * How far the next-token distributions of a cache are from the fp32 cache's, position by position:
 *   KL(P_fp32 ‖ Q) = Σ_i p_i (log p_i − log q_i)   (nats; the reference holds log p as float32)
 *   top-1 agreement: argmax of the quantized logits equals the argmax of the reference.
 * Everything is accumulated in float64.
 */
import { RunningMean, type MeanWithError } from "./stats.js";

/** out[i] = log softmax(logits)[i]; out may be any float array of the same length. */
export function logSoftmaxInto(logits: ArrayLike<number>, out: { length: number; [i: number]: number }): void {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - logZ;
}

/** Index of the largest value, the first one on ties (numpy's argmax). */
export function argmaxOf(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** KL(P ‖ Q) of one position: reference log-probabilities against the logits of the cache under test. */
export function klDivergence(referenceLogProbs: ArrayLike<number>, logits: ArrayLike<number>, scratch: Float64Array): number {
  logSoftmaxInto(logits, scratch);
  let kl = 0;
  for (let i = 0; i < referenceLogProbs.length; i++) {
    const lp = referenceLogProbs[i]!;
    if (lp === -Infinity) continue;
    kl += Math.exp(lp) * (lp - scratch[i]!);
  }
  // float rounding can leave a tiny negative value for identical distributions
  return Math.max(0, kl);
}

export interface DivergenceSummary {
  readonly kl: MeanWithError;
  /** fraction of positions whose argmax token equals the reference's */
  readonly top1: number;
  readonly positions: number;
}

export class DivergenceMeter {
  private readonly kl = new RunningMean();
  private sameTop = 0;
  /** [vocab] log-probabilities of the position being compared */
  private readonly scratch: Float64Array;

  constructor(vocab: number) {
    this.scratch = new Float64Array(vocab);
  }

  add(referenceLogProbs: Float32Array, logits: Float32Array): void {
    this.kl.add(klDivergence(referenceLogProbs, logits, this.scratch));
    if (argmaxOf(referenceLogProbs) === argmaxOf(logits)) this.sameTop++;
  }

  summary(): DivergenceSummary {
    const positions = this.kl.count;
    return { kl: this.kl.result(), top1: positions > 0 ? this.sameTop / positions : Number.NaN, positions };
  }
}
