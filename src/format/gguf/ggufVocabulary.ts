/**
 * The tokenizer.ggml.* keys of a GGUF file, read into one typed record (the tokenizer package builds a tokenizer
 * from it). Absent optional keys are undefined: the tokenizer applies llama.cpp's defaults.
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

export interface GgufVocabulary {
  /** tokenizer.ggml.model: "llama" for SentencePiece, "gpt2" for byte-level BPE. */
  readonly model: string;
  /** tokenizer.ggml.tokens: SentencePiece with "▁" (U+2581) for spaces, byte-level BPE in GPT-2's byte alphabet. */
  readonly tokens: readonly string[];
  /** tokenizer.ggml.scores; shape [tokens.length]. */
  readonly scores: Float32Array | undefined;
  /** tokenizer.ggml.token_type (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte); shape [tokens.length]. */
  readonly tokenTypes: Int32Array | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unknownId: number | undefined;
  /** tokenizer.ggml.merges, "left right" per merge, best first (byte-level BPE). */
  readonly merges: readonly string[] | undefined;
  /** tokenizer.ggml.pre: the pre-tokenizer's name (byte-level BPE). */
  readonly pre: string | undefined;
  readonly addBos: boolean | undefined;
  readonly addEos: boolean | undefined;
  /** tokenizer.ggml.eot_token_id / eom_token_id: end of turn / end of message. */
  readonly eotId: number | undefined;
  readonly eomId: number | undefined;
  /** tokenizer.chat_template, when the file carries one. */
  readonly chatTemplate: string | undefined;
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
  const integer = (key: string): number | undefined => metadataInteger(metadata, `tokenizer.ggml.${key}`, file);
  return {
    model,
    tokens,
    scores,
    tokenTypes,
    bosId: integer("bos_token_id"),
    eosId: integer("eos_token_id"),
    unknownId: integer("unknown_token_id"),
    merges: metadataStringArray(metadata, "tokenizer.ggml.merges", file),
    pre: metadataString(metadata, "tokenizer.ggml.pre", file),
    addBos: metadataBoolean(metadata, "tokenizer.ggml.add_bos_token", file),
    addEos: metadataBoolean(metadata, "tokenizer.ggml.add_eos_token", file),
    eotId: integer("eot_token_id"),
    eomId: integer("eom_token_id"),
    chatTemplate: metadataString(metadata, "tokenizer.chat_template", file),
  };
}

function metadataBoolean(metadata: GgufMetadata, key: string, file: string): boolean | undefined {
  const entry = metadata.get(key);
  if (entry === undefined) return undefined;
  if (entry.type !== "bool") throw new FileFormatError(file, `metadata ${key} has type ${entry.type}, expected a bool`);
  return entry.value;
}
