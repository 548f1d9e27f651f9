/**
 * Budget mode: instead of fixed tolerances, the user gives the memory the hot cache may take (bytes, or a ratio
 * against the same tokens in fp16), and the tolerances follow: ε_K = λ·ε_K0, ε_V = λ·ε_V0 with the smallest scale λ
 * (the best quality) whose allocation fits. Bytes fall as λ grows (larger tolerances never give more bits), so λ is
 * found by bisection on log λ: bracket by factors of BRACKET_FACTOR from a starting guess (the previous step's λ
 * when streaming), then halve the log-interval until its ends are within a factor FIT_PRECISION.
 *
 * λ = Infinity is the cheapest allocation (every bound infinite: b_min everywhere except young and sink tokens);
 * when even that does not fit (a ratio at the first tokens, where the young fp16 tail weighs most), the cheapest is
 * taken and the fit says so (met = false). A budget that cannot be met at the full context is refused when the cache
 * is created (QaqCache, with the smallest feasible budget).
 * λ = 0 is the dearest (b_max everywhere a range is non-zero); when it fits, λ = 0 is the answer.
 */
import { ConfigError } from "../../util/errors.js";

/** The user's budget: absolute bytes, or a compression ratio against fp16 (budget = fp16 bytes / ratio). */
export type MemoryBudget = { readonly kind: "bytes"; readonly bytes: number } | { readonly kind: "ratio"; readonly ratio: number };

/** The chosen tolerance scale and the bytes its allocation takes (≤ the budget when met). */
export interface BudgetFit {
  readonly scale: number;
  readonly bytes: number;
  /** false when even the cheapest allocation exceeds the limit (then scale = Infinity, bytes = the cheapest) */
  readonly met: boolean;
}

const BRACKET_FACTOR = 16;
/** λ within 1% of the boundary: a step function of λ has no better answer worth more evaluations */
const FIT_PRECISION = 1.01;
/** below 2^-64 or above 2^64 the bounds are as good as 0 or ∞ for any sane tolerance */
const SMALLEST_SCALE = 2 ** -64;
const LARGEST_SCALE = 2 ** 64;

/** The budget in bytes for hot-cache contents whose fp16 size is `fp16Bytes`. */
export function budgetBytes(budget: MemoryBudget, fp16Bytes: number): number {
  switch (budget.kind) {
    case "bytes":
      return budget.bytes;
    case "ratio":
      return fp16Bytes / budget.ratio;
    default:
      throw new ConfigError("budget", '"bytes" or "ratio"', budget satisfies never);
  }
}

/**
 * The smallest tolerance scale λ with bytesFor(λ) ≤ limitBytes, to within FIT_PRECISION. bytesFor must be
 * non-increasing in λ and accept 0 and Infinity. `startScale` (> 0) is where the search starts.
 */
export function fitToleranceScale(limitBytes: number, bytesFor: (scale: number) => number, startScale: number): BudgetFit {
  if (!(limitBytes >= 0)) throw new ConfigError("budget bytes", "a number ≥ 0", limitBytes);
  if (!(startScale > 0 && startScale < Infinity)) throw new ConfigError("startScale", "a finite number > 0", startScale);
  const cheapest = bytesFor(Infinity);
  if (cheapest > limitBytes) return { scale: Infinity, bytes: cheapest, met: false };
  const dearest = bytesFor(0);
  if (dearest <= limitBytes) return { scale: 0, bytes: dearest, met: true };

  // bracket: `low` does not fit, `high` fits
  let low = startScale;
  let high = startScale;
  let highBytes = bytesFor(startScale);
  if (highBytes <= limitBytes) {
    do {
      low /= BRACKET_FACTOR;
      if (low < SMALLEST_SCALE) return { scale: high, bytes: highBytes, met: true };
      const bytes = bytesFor(low);
      if (bytes > limitBytes) break;
      high = low;
      highBytes = bytes;
    } while (true);
  } else {
    do {
      low = high;
      high *= BRACKET_FACTOR;
      if (high > LARGEST_SCALE) return { scale: Infinity, bytes: cheapest, met: true };
      highBytes = bytesFor(high);
    } while (highBytes > limitBytes);
  }

  while (high / low > FIT_PRECISION) {
    const middle = Math.sqrt(low * high);
    const bytes = bytesFor(middle);
    if (bytes <= limitBytes) {
      high = middle;
      highBytes = bytes;
    } else {
      low = middle;
    }
  }
  return { scale: high, bytes: highBytes, met: true };
}
