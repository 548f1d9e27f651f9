import { NumericError } from "../util/errors.js";

/**
 * The forward pass's guard against numerical faults (a corrupt weight, an overflow): after attention and after each
 * layer, one branch-free pass over the block's activations (Σ v·0 is 0 unless some v is NaN or ±Infinity); only
 * when it fails is the first bad row located, so the error names the layer, the stage and the token position.
 */
export function checkRowsFinite(values: Float32Array, rowWidth: number, pos0: number, layer: number, stage: string): void {
  const bad = firstNonFinite(values);
  if (bad >= 0) throw new NumericError(`layer ${layer} ${stage} at position ${pos0 + Math.floor(bad / rowWidth)}`);
}

/** The same for the logits returned: rows of `vocab`, the first of them at position `pos0`. */
export function checkLogitsFinite(values: Float32Array, vocab: number, pos0: number): void {
  const bad = firstNonFinite(values);
  if (bad >= 0) throw new NumericError(`output logits at position ${pos0 + Math.floor(bad / vocab)}`);
}

/** Index of the first NaN or ±Infinity, -1 when there is none. */
function firstNonFinite(values: Float32Array): number {
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i]! * 0;
  if (probe === 0) return -1;
  let i = 0;
  while (Number.isFinite(values[i]!)) i++;
  return i;
}
