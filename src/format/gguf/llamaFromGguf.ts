/**
 * A GGUF "llama" model's hyper-parameters and vocabulary, read from its metadata (llama.* and tokenizer.ggml.* keys,
 * as llama.cpp writes them). GGUF llama tensors use the same interleaved RoPE layout as llama2.c: no permutation.
 */
import { validateModelConfig, type ModelConfig } from "../../model/config.js";
import { FileFormatError, UnsupportedError } from "../../util/errors.js";
import { TENSOR_NAMES, type TensorView } from "../tensor.js";
import {
  metadataFloat32Array,
  metadataInt32Array,
  metadataInteger,
  metadataNumber,
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

const DEFAULT_ROPE_THETA = 10000;
const DEFAULT_NORM_EPS = 1e-5;

/** Throws UnsupportedError unless general.architecture is "llama". */
export function requireLlamaArchitecture(metadata: GgufMetadata, file: string): void {
  const architecture = metadataString(metadata, "general.architecture", file);
  if (architecture === undefined) throw new FileFormatError(file, "metadata general.architecture is missing");
  if (architecture !== "llama") {
    throw new UnsupportedError(`${file}: model architecture "${architecture}" is not supported; only "llama" is`);
  }
}

/** The validated config; the vocabulary size comes from the token list, else from token_embd's shape. */
export function llamaConfigFromGguf(
  metadata: GgufMetadata,
  tensors: ReadonlyMap<string, TensorView>,
  vocabulary: GgufVocabulary | undefined,
  file: string,
): ModelConfig {
  const required = (key: string): number => {
    const value = metadataInteger(metadata, key, file);
    if (value === undefined) throw new FileFormatError(file, `metadata ${key} is missing`);
    return value;
  };
  const dim = required("llama.embedding_length");
  const nHeads = required("llama.attention.head_count");
  const headDim = dim / nHeads;
  const config: ModelConfig = {
    dim,
    hiddenDim: required("llama.feed_forward_length"),
    nLayers: required("llama.block_count"),
    nHeads,
    nKvHeads: metadataInteger(metadata, "llama.attention.head_count_kv", file) ?? nHeads,
    headDim,
    vocabSize: vocabularySize(tensors, vocabulary, file),
    seqLen: required("llama.context_length"),
    ropeTheta: metadataNumber(metadata, "llama.rope.freq_base", file) ?? DEFAULT_ROPE_THETA,
    normEps: metadataNumber(metadata, "llama.attention.layer_norm_rms_epsilon", file) ?? DEFAULT_NORM_EPS,
  };
  validateModelConfig(config, file);
  const ropeDims = metadataInteger(metadata, "llama.rope.dimension_count", file);
  if (ropeDims !== undefined && ropeDims !== headDim) {
    throw new UnsupportedError(`${file}: llama.rope.dimension_count ${ropeDims} rotates part of a head of ${headDim}; only full rotary is supported`);
  }
  return config;
}

function vocabularySize(tensors: ReadonlyMap<string, TensorView>, vocabulary: GgufVocabulary | undefined, file: string): number {
  if (vocabulary !== undefined) return vocabulary.tokens.length;
  const embedding = tensors.get(TENSOR_NAMES.tokenEmbedding);
  if (embedding === undefined || embedding.shape.length !== 2) {
    throw new FileFormatError(file, `has neither tokenizer.ggml.tokens nor a 2-D ${TENSOR_NAMES.tokenEmbedding} to size the vocabulary`);
  }
  return embedding.shape[1]!;
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
