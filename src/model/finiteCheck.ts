import { NumericError } from "../util/errors.js";

/**
 * The forward pass's guard against numerical faults (a corrupt weight, an overflow): after attention and after each
 * layer, one branch-free pass over the block's activations (Σ v·0 is 0 unless some v is NaN or ±Infinity); only
 * when it fails is the first bad row located, so the error names the layer, the stage and the token position.
 */
export function checkRowsFinite(values: Float32Array, rowWidth: number, pos0: number, layer: number, stage: string): void {
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i]! * 0;
  if (probe === 0) return;
  let i = 0;
  while (Number.isFinite(values[i]!)) i++;
  throw new NumericError(`layer ${layer} ${stage} at position ${pos0 + Math.floor(i / rowWidth)}`);
}
