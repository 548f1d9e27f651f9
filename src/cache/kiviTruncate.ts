import { KIVI_BLOCK } from "./KiviKeyBlocks.js";
import type { KiviLayer } from "./KiviCache.js";

/**
 * Truncation of a KIVI layer to `nextPos` tokens where the cut falls inside its quantized region. Key blocks are
 * whole (the kernel reads 32 tokens per block), so the block holding the cut is dropped and its kept tokens
 * [32·floor(nextPos/32), nextPos) go back to the residual window as fp16 rows, from their DEQUANTIZED keys and
 * values: attention afterwards reads what it read before, up to the fp16 rounding of those values (full precision
 * is gone and is not invented). Their value groups become empty entries again, as for any residual token.
 */
export function rematerializeTail(s: KiviLayer, nextPos: number): void {
  const { nKvHeads, headDim } = s.keyBlocks;
  const keepBlocks = Math.floor(nextPos / KIVI_BLOCK);
  const tailStart = keepBlocks * KIVI_BLOCK;
  const tail = nextPos - tailStart;
  const kvDim = nKvHeads * headDim;
  const keys = new Float32Array(tail * kvDim);
  const values = new Float32Array(tail * kvDim);
  if (tail > 0) {
    for (let r = 0; r < tail; r++) {
      for (let h = 0; h < nKvHeads; h++) {
        const offset = r * kvDim + h * headDim;
        s.keyBlocks.dequantizeToken(h, keepBlocks, r, keys, offset);
        s.values.readGroup(tailStart + r, h, values, offset);
      }
    }
  }
  s.keyBlocks.truncate(keepBlocks);
  s.values.truncate(tailStart);
  s.values.appendEmpty(tail);
  for (const [rows, src] of [[s.residualKeys, keys], [s.residualValues, values]] as const) {
    rows.ensureRows(tail, 0);
    rows.writeTokens(0, tail, src);
  }
  s.quantized = tailStart;
  s.residual = tail;
}
