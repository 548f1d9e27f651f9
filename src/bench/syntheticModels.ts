import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticLlamaGguf, type SyntheticLlamaShape } from "../format/syntheticModel.js";
import type { WeightRecipe } from "../format/weightRecipe.js";

/**
 * Synthetic models the benchmarks run (random weights written by the project's own GGUF writer). They are written
 * once into the system temp folder and reused by later runs (same shape, type and seed give the same bytes).
 */
export const TINYLLAMA_SHAPE: SyntheticLlamaShape = {
  dim: 2048,
  hiddenDim: 5632,
  nLayers: 22,
  nHeads: 32,
  nKvHeads: 4,
  vocabSize: 32000,
  seqLen: 2048,
};

/** Same KV shape as TinyLlama (4 KV heads x 64) but 2 layers, for long contexts. */
export const SHALLOW_LONG_SHAPE: SyntheticLlamaShape = {
  dim: 2048,
  hiddenDim: 5632,
  nLayers: 2,
  nHeads: 32,
  nKvHeads: 4,
  vocabSize: 32000,
  seqLen: 32768,
};

export async function syntheticModelPath(name: string, shape: SyntheticLlamaShape, type: WeightRecipe): Promise<string> {
  const dir = join(tmpdir(), "qaq-bench-models");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${type}.gguf`);
  if (!existsSync(path)) {
    process.stderr.write(`writing synthetic model ${path} ...\n`);
    await writeSyntheticLlamaGguf(path, shape, type, 1234);
  }
  return path;
}
