/**
 * What QAQ's policy costs and does, step by step (a step = one endForward): groups quantized and re-quantized,
 * backing-tier reads, and the wall time spent in QAQ bookkeeping (range measurement, query norms, the attention
 * window, width planning and the budget search, re-quantization, backing I/O) — everything a fixed-width cache
 * would not do. Counts are in groups (one (token, KV head), or one token's layer vector, of keys or values).
 */
import type { ApplyCounts } from "./Requantizer.js";

export interface QaqStats {
  /** endForward calls so far */
  readonly steps: number;
  /** groups quantized for the first time (left the fp16 tail), in the last step and in total */
  readonly quantizedLastStep: number;
  readonly quantized: number;
  /** packed groups re-quantized to another width, in the last step and in total (raised + lowered) */
  readonly requantizedLastStep: number;
  readonly requantized: number;
  readonly raised: number;
  readonly lowered: number;
  /** reads from the backing tier and their bytes */
  readonly backingReads: number;
  readonly backingBytesRead: number;
  /** milliseconds of QAQ bookkeeping in the last step (from the previous endForward to this one) and in total */
  readonly bookkeepingMsLastStep: number;
  readonly bookkeepingMs: number;
  /** the tolerance scale λ of the last step (1 without a budget) */
  readonly toleranceScale: number;
  /** budget mode: the budgeted bytes of the last step and their limit (0 and Infinity without a budget) */
  readonly budgetBytes: number;
  readonly budgetLimitBytes: number;
  /** false when even the cheapest allocation exceeded the limit at the last step (a ratio at the first tokens) */
  readonly budgetMet: boolean;
}

/** Accumulates the counters; the cache reads them through snapshot(). */
export class QaqStatsCounter {
  private steps = 0;
  private last: ApplyCounts = { quantized: 0, raised: 0, lowered: 0 };
  private total: ApplyCounts = { quantized: 0, raised: 0, lowered: 0 };
  private stepMs = 0;
  private lastStepMs = 0;
  private totalMs = 0;
  toleranceScale = 1;
  budgetBytes = 0;
  budgetLimitBytes = Infinity;
  budgetMet = true;

  /** Adds the time since `startMs` (performance.now()) to the current step's bookkeeping. */
  addTime(startMs: number): void {
    const ms = performance.now() - startMs;
    this.stepMs += ms;
    this.totalMs += ms;
  }

  /** Closes a step with what its endForward applied. */
  endStep(counts: ApplyCounts): void {
    this.steps++;
    this.last = counts;
    this.total.quantized += counts.quantized;
    this.total.raised += counts.raised;
    this.total.lowered += counts.lowered;
    this.lastStepMs = this.stepMs;
    this.stepMs = 0;
  }

  snapshot(backingReads: number, backingBytesRead: number): QaqStats {
    return {
      steps: this.steps,
      quantizedLastStep: this.last.quantized,
      quantized: this.total.quantized,
      requantizedLastStep: this.last.raised + this.last.lowered,
      requantized: this.total.raised + this.total.lowered,
      raised: this.total.raised,
      lowered: this.total.lowered,
      backingReads,
      backingBytesRead,
      bookkeepingMsLastStep: this.lastStepMs,
      bookkeepingMs: this.totalMs,
      toleranceScale: this.toleranceScale,
      budgetBytes: this.budgetBytes,
      budgetLimitBytes: this.budgetLimitBytes,
      budgetMet: this.budgetMet,
    };
  }
}
