/**
 * A GGUF model's vocabulary, read from its tokenizer.ggml.* metadata as llama.cpp writes it (the hyper-parameters
 * are read by ggufModelConfig.ts).
 */
import { FileFormatError } from "../../util/errors.js";
import {
  metadataFloat32Array,
  metadataInt32Array,
  metadataInteger,
  metadataString,
  metadataStringArray,
  type GgufMetadata,
} from "./ggufMetadata.js";

/** The tokenizer.ggml.* fields; absent optional keys are undefined (the tokenizer applies llama.cpp's defaults). */
export interface GgufVocabulary {
  /** tokenizer.ggml.model, "llama" for SentencePiece. */
  readonly model: string;
  /** tokenizer.ggml.tokens, with "▁" (U+2581) as the space marker. */
  readonly tokens: readonly string[];
  /** tokenizer.ggml.scores; shape [tokens.length]. */
  readonly scores: Float32Array | undefined;
  /** tokenizer.ggml.token_type (1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte); shape [tokens.length]. */
  readonly tokenTypes: Int32Array | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unknownId: number | undefined;
}

/** The vocabulary when the file has tokenizer.ggml.tokens, undefined otherwise. */
export function ggufVocabulary(metadata: GgufMetadata, file: string): GgufVocabulary | undefined {
  const tokens = metadataStringArray(metadata, "tokenizer.ggml.tokens", file);
  if (tokens === undefined) return undefined;
  const scores = metadataFloat32Array(metadata, "tokenizer.ggml.scores", file);
  const tokenTypes = metadataInt32Array(metadata, "tokenizer.ggml.token_type", file);
  for (const [key, values] of [["tokenizer.ggml.scores", scores], ["tokenizer.ggml.token_type", tokenTypes]] as const) {
    if (values !== undefined && values.length !== tokens.length) {
      throw new FileFormatError(file, `metadata ${key} has ${values.length} entries for ${tokens.length} tokens`);
    }
  }
  const model = metadataString(metadata, "tokenizer.ggml.model", file);
  if (model === undefined) throw new FileFormatError(file, "metadata tokenizer.ggml.model is missing (the file has tokens)");
  return {
    model,
    tokens,
    scores,
    tokenTypes,
    bosId: metadataInteger(metadata, "tokenizer.ggml.bos_token_id", file),
    eosId: metadataInteger(metadata, "tokenizer.ggml.eos_token_id", file),
    unknownId: metadataInteger(metadata, "tokenizer.ggml.unknown_token_id", file),
  };
}
