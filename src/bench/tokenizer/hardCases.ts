/**
 * The committed hard cases for the byte-level BPE tokenizers (test/fixtures/tokenizer/hard-cases.json) and the
 * file of llama.cpp's tokenizations of them, shared by the fixture script and the tests.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ReferenceVocabularyName } from "./referenceVocabularies.js";

export interface HardCase {
  readonly name: string;
  readonly text: string;
}

export const HARD_CASES_FILE = join("test", "fixtures", "tokenizer", "hard-cases.json");
export const LLAMA_CPP_TOKENS_FILE = join("test", "fixtures", "tokenizer", "llama-cpp-tokens.json");

export function readHardCases(projectRoot: string): readonly HardCase[] {
  return (JSON.parse(readFileSync(join(projectRoot, HARD_CASES_FILE), "utf8")) as { cases: HardCase[] }).cases;
}

/** What llama.cpp made of every hard case, with and without special-token parsing, per vocabulary. */
export interface LlamaCppTokens {
  readonly command: string;
  readonly peer: string;
  readonly vocabularies: Readonly<
    Partial<Record<ReferenceVocabularyName, readonly { readonly name: string; readonly plain: readonly number[]; readonly special: readonly number[] }[]>>
  >;
}

export function readLlamaCppTokens(projectRoot: string): LlamaCppTokens {
  return JSON.parse(readFileSync(join(projectRoot, LLAMA_CPP_TOKENS_FILE), "utf8")) as LlamaCppTokens;
}
