/**
 * One fuzz case: (run seed, case index) -> a seed file and its mutation, fully determined by the two numbers, so a
 * failure is reproduced with `npm run fuzz -- --seed S --case I` and nothing else.
 */
import { Rng } from "../../util/rng.js";
import { havoc, type Mutated } from "./byteMutations.js";
import type { LoadedSeed } from "./fuzzCorpus.js";
import { mutateGguf } from "./ggufMutations.js";
import { mutateCheckpoint, mutateTokenizerFile } from "./llama2cMutations.js";

export interface FuzzCase extends Mutated {
  readonly index: number;
  readonly seed: LoadedSeed;
}

/** A generator state per case: the run seed and the index mixed (splitmix-style) so neighbouring cases differ. */
export function caseRng(runSeed: number, index: number): Rng {
  const mixed = Math.imul((runSeed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  return new Rng(mixed >>> 0);
}

export function makeCase(corpus: readonly LoadedSeed[], runSeed: number, index: number): FuzzCase {
  const rng = caseRng(runSeed, index);
  const seed = pickWeighted(rng, corpus);
  const structural = rng.next() < 0.7;
  let mutated: Mutated;
  if (!structural) mutated = havoc(rng, seed.bytes);
  else if (seed.kind === "gguf") {
    mutated = mutateGguf(rng, seed.raw!, seed.bytes.length);
    if (rng.next() < 0.3) {
      const more = havoc(rng, mutated.bytes);
      mutated = { bytes: more.bytes, label: `${mutated.label}; ${more.label}` };
    }
  } else if (seed.kind === "llama2c") mutated = mutateCheckpoint(rng, seed.bytes);
  else mutated = mutateTokenizerFile(rng, seed.bytes);
  return { ...mutated, index, seed };
}

function pickWeighted(rng: Rng, corpus: readonly LoadedSeed[]): LoadedSeed {
  const total = corpus.reduce((sum, s) => sum + s.weight, 0);
  let r = rng.next() * total;
  for (const seed of corpus) {
    r -= seed.weight;
    if (r < 0) return seed;
  }
  return corpus[corpus.length - 1]!;
}
