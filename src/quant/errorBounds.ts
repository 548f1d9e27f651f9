/**
 * Error figures of uniform quantization with step `scale` (uniform.ts), for tests and for the bit-width policy.
 */

/** Standard deviation of the error when values fall uniformly within their bins: scale / sqrt(12). */
export function uniformNoiseSigma(scale: number): number {
  return scale / Math.sqrt(12);
}

/** Largest error of a value inside the grid, reconstructed at its bin's midpoint: scale / 2. */
export function midpointMaxError(scale: number): number {
  return scale / 2;
}
