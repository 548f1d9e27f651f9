/**
 * The valid files the fuzzer mutates, built from the bundled stories260K (no ../shared needed):
 *   stories260K.bin and tok512.bin as shipped (llama2.c checkpoint and tokenizer),
 *   stories260K converted to GGUF in f32 and in q8_0 (its 172-wide FFN rows fall back to f16),
 *   a tiny synthetic GGUF (dim 64, 1 layer, GQA 4/2, vocab 260, context 32) with q4_0 matrices and its own vocabulary.
 * `prepareCorpus` writes them into a folder once; `loadCorpus` reads them back (each fuzz worker does).
 */
import { readFileSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { convertLlama2cToGguf } from "../../format/convert.js";
import { writeSyntheticLlamaGguf } from "../../format/syntheticModel.js";
import { DEFAULT_MODEL, DEFAULT_TOKENIZER } from "../../cli/defaults.js";
import { rawFromGguf, type RawGguf } from "./rawGguf.js";

export type SeedKind = "gguf" | "llama2c" | "tokenizer";

export interface SeedFile {
  readonly name: string;
  readonly kind: SeedKind;
  /** How often this seed is picked, relative to the others. */
  readonly weight: number;
}

export const SEED_FILES: readonly SeedFile[] = [
  { name: "stories260K.f32.gguf", kind: "gguf", weight: 25 },
  { name: "stories260K.q8_0.gguf", kind: "gguf", weight: 15 },
  { name: "synthetic.q4_0.gguf", kind: "gguf", weight: 15 },
  { name: "stories260K.bin", kind: "llama2c", weight: 20 },
  { name: "tok512.bin", kind: "tokenizer", weight: 25 },
];

/** The llama2.c tokenizer a mutated checkpoint is loaded with (always the valid one). */
export const CORPUS_TOKENIZER = "tok512.bin";

export async function prepareCorpus(dir: string): Promise<void> {
  await copyFile(DEFAULT_MODEL, join(dir, "stories260K.bin"));
  await copyFile(DEFAULT_TOKENIZER, join(dir, "tok512.bin"));
  await convertLlama2cToGguf(DEFAULT_MODEL, DEFAULT_TOKENIZER, join(dir, "stories260K.f32.gguf"), "f32");
  await convertLlama2cToGguf(DEFAULT_MODEL, DEFAULT_TOKENIZER, join(dir, "stories260K.q8_0.gguf"), "q8_0");
  const shape = { dim: 64, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 2, vocabSize: 260, seqLen: 32 };
  await writeSyntheticLlamaGguf(join(dir, "synthetic.q4_0.gguf"), shape, "q4_0", 7);
}

export interface LoadedSeed extends SeedFile {
  readonly bytes: Uint8Array;
  /** GGUF seeds split into raw parts, for structural mutations. */
  readonly raw?: RawGguf;
}

export function loadCorpus(dir: string): LoadedSeed[] {
  return SEED_FILES.map((seed) => {
    const bytes = new Uint8Array(readFileSync(join(dir, seed.name)));
    return seed.kind === "gguf" ? { ...seed, bytes, raw: rawFromGguf(bytes) } : { ...seed, bytes };
  });
}
