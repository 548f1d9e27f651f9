/**
 * The metadata a GGUF model of a supported architecture carries, built for writing (convert.ts, syntheticModel.ts,
 * bench/compat): the <arch>.* hyper-parameters and a SentencePiece vocabulary under tokenizer.ggml.*, with the keys
 * and types llama.cpp uses.
 */
import type { ModelConfig } from "../model/config.js";
import type { GgufMetadataEntry } from "./gguf/layoutGguf.js";
import { LLAMA_FILE_TYPES, type WeightRecipe } from "./weightRecipe.js";

/** llama.cpp token types (enum llama_token_type). */
export const LLAMA_TOKEN_TYPES = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** SentencePiece's space marker, which GGUF vocabularies keep and llama2.c files replace by " ". */
export const SPACE_MARKER = "\u2581";

const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;
/** The llama2.c / SentencePiece ids of the special pieces. */
export const UNKNOWN_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;

/**
 * general.* and <arch>.* entries for a model of this config (the prefix is config.arch.name), matrices mostly stored
 * as `weightType`. The head size is written when it is not dim / nHeads, linear rope scaling when it is set.
 */
export function llamaModelMetadata(config: ModelConfig, name: string, weightType: WeightRecipe): GgufMetadataEntry[] {
  const arch = config.arch.name;
  const entries: GgufMetadataEntry[] = [
    { key: "general.architecture", value: { type: "string", value: arch } },
    { key: "general.name", value: { type: "string", value: name } },
    { key: "general.alignment", value: { type: "u32", value: 32 } },
    { key: `${arch}.context_length`, value: { type: "u32", value: config.seqLen } },
    { key: `${arch}.embedding_length`, value: { type: "u32", value: config.dim } },
    { key: `${arch}.block_count`, value: { type: "u32", value: config.nLayers } },
    { key: `${arch}.feed_forward_length`, value: { type: "u32", value: config.hiddenDim } },
    { key: `${arch}.rope.dimension_count`, value: { type: "u32", value: config.headDim } },
    { key: `${arch}.attention.head_count`, value: { type: "u32", value: config.nHeads } },
    { key: `${arch}.attention.head_count_kv`, value: { type: "u32", value: config.nKvHeads } },
    { key: `${arch}.attention.layer_norm_rms_epsilon`, value: { type: "f32", value: config.normEps } },
    { key: `${arch}.rope.freq_base`, value: { type: "f32", value: config.ropeTheta } },
    { key: "general.file_type", value: { type: "u32", value: LLAMA_FILE_TYPES[weightType] } },
  ];
  if (config.headDim * config.nHeads !== config.dim) {
    entries.push(
      { key: `${arch}.attention.key_length`, value: { type: "u32", value: config.headDim } },
      { key: `${arch}.attention.value_length`, value: { type: "u32", value: config.headDim } },
    );
  }
  if (config.arch.ropePositionScale !== 1) {
    entries.push(
      { key: `${arch}.rope.scaling.type`, value: { type: "string", value: "linear" } },
      { key: `${arch}.rope.scaling.factor`, value: { type: "f32", value: 1 / config.arch.ropePositionScale } },
    );
  }
  return entries;
}

/**
 * tokenizer.ggml.* entries for a SentencePiece vocabulary given in llama2.c form (spaces as " ", BOS/EOS possibly
 * wrapped in newlines as llama2.c writes them); ids 0/1/2 are unknown/BOS/EOS.
 */
export function llamaVocabularyMetadata(pieces: readonly string[], scores: Float32Array): GgufMetadataEntry[] {
  const tokens = pieces.map((piece, id) => ggufPiece(piece, id));
  return [
    { key: "tokenizer.ggml.model", value: { type: "string", value: "llama" } },
    { key: "tokenizer.ggml.tokens", value: { type: "array", elementType: "string", values: tokens } },
    { key: "tokenizer.ggml.scores", value: { type: "array", elementType: "f32", values: scores } },
    {
      key: "tokenizer.ggml.token_type",
      value: { type: "array", elementType: "i32", values: Int32Array.from(tokens, (token, id) => llamaTokenType(token, id)) },
    },
    { key: "tokenizer.ggml.bos_token_id", value: { type: "u32", value: BOS_ID } },
    { key: "tokenizer.ggml.eos_token_id", value: { type: "u32", value: EOS_ID } },
    { key: "tokenizer.ggml.unknown_token_id", value: { type: "u32", value: UNKNOWN_ID } },
    { key: "tokenizer.ggml.add_bos_token", value: { type: "bool", value: true } },
  ];
}

/** A llama2.c piece as GGUF stores it: "▁" for spaces; BOS/EOS without llama2.c's surrounding newlines. */
export function ggufPiece(piece: string, id: number): string {
  if (id === BOS_ID || id === EOS_ID) return piece.trim();
  return piece.replaceAll(" ", SPACE_MARKER);
}

/** unknown for id 0, control for BOS/EOS, byte for "<0xNN>", normal otherwise. */
export function llamaTokenType(piece: string, id: number): number {
  if (id === UNKNOWN_ID) return LLAMA_TOKEN_TYPES.unknown;
  if (id === BOS_ID || id === EOS_ID) return LLAMA_TOKEN_TYPES.control;
  if (BYTE_PIECE.test(piece)) return LLAMA_TOKEN_TYPES.byte;
  return LLAMA_TOKEN_TYPES.normal;
}
