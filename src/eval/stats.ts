/** Means and their standard errors, as every result line reports them. */

export interface MeanWithError {
  readonly mean: number;
  /** sample standard deviation / sqrt(n); 0 for fewer than 2 values */
  readonly stderr: number;
}

export function meanWithError(values: ArrayLike<number>): MeanWithError {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, stderr: Number.NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  if (n < 2) return { mean, stderr: 0 };
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i]! - mean) ** 2;
  return { mean, stderr: Math.sqrt(squares / (n - 1) / n) };
}

/** A proportion p = hits/n with the protocol's standard error sqrt(p(1-p)/n). */
export function proportionWithError(hits: number, n: number): MeanWithError {
  if (n === 0) return { mean: Number.NaN, stderr: Number.NaN };
  const p = hits / n;
  return { mean: p, stderr: Math.sqrt((p * (1 - p)) / n) };
}

/**
 * A running mean and standard error over a stream too long to keep (one value per scored position), accumulated
 * with Welford's update for stability.
 */
export class RunningMean {
  private n = 0;
  private mean = 0;
  private m2 = 0;

  add(value: number): void {
    this.n++;
    const delta = value - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (value - this.mean);
  }

  get count(): number {
    return this.n;
  }

  result(): MeanWithError {
    if (this.n === 0) return { mean: Number.NaN, stderr: Number.NaN };
    return { mean: this.mean, stderr: this.n < 2 ? 0 : Math.sqrt(this.m2 / (this.n - 1) / this.n) };
  }
}
