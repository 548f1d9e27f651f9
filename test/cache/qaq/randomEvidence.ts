import type { TokenEvidence } from "../../../src/cache/qaq/bitAllocator.js";
import type { Rng } from "../../../src/util/rng.js";

/**
 * Evidence for T tokens shaped like a real cache's: ranges of a few units (5% constant groups), attention spread
 * over orders of magnitude (10% never attended), the last 3 tokens young.
 */
export function randomEvidence(rng: Rng, T: number): TokenEvidence {
  const evidence: TokenEvidence = {
    keyRange: new Float32Array(T),
    valueRange: new Float32Array(T),
    attention: new Float32Array(T),
    young: new Uint8Array(T),
  };
  for (let t = 0; t < T; t++) {
    evidence.keyRange[t] = rng.next() < 0.05 ? 0 : rng.uniform(0.1, 8);
    evidence.valueRange[t] = rng.next() < 0.05 ? 0 : rng.uniform(0.1, 4);
    evidence.attention[t] = rng.next() < 0.1 ? 0 : Math.exp(rng.uniform(-9, 0));
    evidence.young[t] = t >= T - 3 ? 1 : 0;
  }
  return evidence;
}
