/**
 * Building tokenizers from files, and the check that a tokenizer belongs to a model.
 */
import { platform } from "#platform";
import { FileFormatError, UnsupportedError } from "../util/errors.js";
import { parseLlama2cTokenizerFile } from "../format/llama2cTokenizerFile.js";
import { bpeVocabularyFromGguf } from "./BpeVocabulary.js";
import { ByteLevelBpeTokenizer } from "./ByteLevelBpeTokenizer.js";
import { preTokenizerFor } from "./PreTokenizer.js";
import { SentencePieceTokenizer } from "./SentencePieceTokenizer.js";
import type { Tokenizer } from "./Tokenizer.js";
import { vocabularyFromGguf, vocabularyFromLlama2c, type GgufVocabularyFields } from "./Vocabulary.js";

/** tokenizer.ggml.model values this engine reads. */
export const SUPPORTED_TOKENIZER_MODELS = ["llama", "gpt2"] as const;

/** Reads a llama2.c tok.bin file (tok512.bin, tokenizer.bin). */
export function tokenizerFromLlama2cFile(path: string): SentencePieceTokenizer {
  let bytes: Uint8Array;
  try {
    bytes = platform.readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FileFormatError(path, `cannot read the tokenizer file (${reason})`);
  }
  return tokenizerFromLlama2cBytes(bytes, path);
}

/** The same from the file's bytes already in memory; `path` names the file in errors. */
export function tokenizerFromLlama2cBytes(bytes: Uint8Array, path: string): SentencePieceTokenizer {
  const { pieces, scores, validUtf8 } = parseLlama2cTokenizerFile(bytes, path);
  const invalid = validUtf8.indexOf(false);
  if (invalid >= 0) throw new FileFormatError(path, `piece ${invalid} is not valid UTF-8`);
  return new SentencePieceTokenizer(vocabularyFromLlama2c(pieces, scores, path));
}

/**
 * Builds the tokenizer of a GGUF model from its tokenizer.ggml.* fields; `file` names the GGUF in errors.
 * "llama" is SentencePiece, "gpt2" byte-level BPE with the pre-tokenizer of tokenizer.ggml.pre; anything else is refused.
 */
export function tokenizerFromGgufVocabulary(fields: GgufVocabularyFields, file: string): Tokenizer {
  switch (fields.model) {
    case "llama":
      return new SentencePieceTokenizer(vocabularyFromGguf(fields, file), {
        addBos: fields.addBos,
        addEos: fields.addEos,
        extraEndOfGenerationIds: [fields.eotId, fields.eomId],
      });
    case "gpt2": {
      // Checked first: an unknown pre-tokenizer is reported before the merges are indexed.
      const preTokenizer = preTokenizerFor(fields.pre, file);
      // llama.cpp adds BOS by default for Llama 3's pre-tokenizer only.
      return new ByteLevelBpeTokenizer(bpeVocabularyFromGguf(fields, preTokenizer.name === "llama-bpe", file), preTokenizer);
    }
    default:
      throw new UnsupportedError(
        `${file}: tokenizer.ggml.model "${fields.model}" is not supported (supported: "llama" = SentencePiece, "gpt2" = byte-level BPE)`,
      );
  }
}

/** A tokenizer whose piece count differs from the model's embedding rows belongs to another model. */
export function checkTokenizerMatchesModel(tokenizer: Tokenizer, vocabSize: number, file: string): void {
  if (tokenizer.vocabSize !== vocabSize) {
    throw new FileFormatError(
      file,
      `tokenizer has ${tokenizer.vocabSize} pieces but the model's vocabulary is ${vocabSize}`,
    );
  }
}
