/**
 * A GGUF model's hyper-parameters, read from its metadata the way llama.cpp reads them: `<arch>.*` keys for the
 * architecture named by general.architecture (supported ones: model/architectures/registry.ts), and the options that
 * architecture resolves from the file (biases present, rope scaling, rope_freqs factors).
 */
import { validateModelConfig, type ModelConfig } from "../../model/config.js";
import type { Architecture, ArchitectureOptions } from "../../model/architectures/architecture.js";
import { requireArchitecture } from "../../model/architectures/registry.js";
import { FileFormatError, UnsupportedError } from "../../util/errors.js";
import { TENSOR_NAMES, type TensorView } from "../tensor.js";
import { dequantizeTensorRow } from "./ggmlTypes.js";
import { metadataInteger, metadataNumber, metadataString, type GgufMetadata } from "./ggufMetadata.js";
import type { GgufVocabulary } from "./ggufVocabulary.js";

/** general.architecture, or a FileFormatError when it is missing. */
export function ggufArchitectureName(metadata: GgufMetadata, file: string): string {
  const name = metadataString(metadata, "general.architecture", file);
  if (name === undefined) throw new FileFormatError(file, "metadata general.architecture is missing");
  return name;
}

/**
 * The validated config; UnsupportedError for an architecture not in the registry (naming it and the supported
 * list), partial rotary, or a rope scaling other than linear. The vocabulary size comes from the token list, else
 * from token_embd's shape.
 */
export function modelConfigFromGguf(
  metadata: GgufMetadata,
  tensors: ReadonlyMap<string, TensorView>,
  vocabulary: GgufVocabulary | undefined,
  file: string,
): ModelConfig {
  const architecture = requireArchitecture(ggufArchitectureName(metadata, file), file);
  const key = (suffix: string) => `${architecture.name}.${suffix}`;
  const integer = (suffix: string) => metadataInteger(metadata, key(suffix), file);
  const required = (suffix: string): number => {
    const value = integer(suffix);
    if (value === undefined) throw new FileFormatError(file, `metadata ${key(suffix)} is missing`);
    return value;
  };
  const dim = required("embedding_length");
  const nHeads = required("attention.head_count");
  if (!(nHeads > 0)) throw new FileFormatError(file, `metadata ${key("attention.head_count")} = ${nHeads} is not positive`);
  const headDim = integer("attention.key_length") ?? dim / nHeads;
  if (!Number.isInteger(headDim)) {
    throw new FileFormatError(file, `embedding length ${dim} is not a multiple of ${nHeads} heads, and ${key("attention.key_length")} is absent`);
  }
  const valueLength = integer("attention.value_length");
  if (valueLength !== undefined && valueLength !== headDim) {
    throw new UnsupportedError(`${file}: value heads of ${valueLength} differ from key heads of ${headDim}; only equal sizes are supported`);
  }
  const ropeDims = integer("rope.dimension_count");
  if (ropeDims !== undefined && ropeDims !== headDim) {
    throw new UnsupportedError(`${file}: ${key("rope.dimension_count")} ${ropeDims} rotates part of a head of ${headDim}; only full rotary is supported`);
  }
  const config: ModelConfig = {
    dim,
    hiddenDim: required("feed_forward_length"),
    nLayers: required("block_count"),
    nHeads,
    nKvHeads: integer("attention.head_count_kv") ?? nHeads,
    headDim,
    vocabSize: vocabularySize(tensors, vocabulary, file),
    seqLen: required("context_length"),
    ropeTheta: metadataNumber(metadata, key("rope.freq_base"), file) ?? architecture.defaultRopeTheta,
    normEps: metadataNumber(metadata, key("attention.layer_norm_rms_epsilon"), file) ?? architecture.defaultNormEps,
    arch: resolveOptions(architecture, metadata, tensors, file),
  };
  return validateModelConfig(config, file);
}

function resolveOptions(
  architecture: Architecture,
  metadata: GgufMetadata,
  tensors: ReadonlyMap<string, TensorView>,
  file: string,
): ArchitectureOptions {
  const qkvBias =
    architecture.qkvBias === "always" || (architecture.qkvBias === "if-present" && tensors.has(TENSOR_NAMES.qBias(0)));
  const freqs = architecture.ropeFreqFactors ? tensors.get(TENSOR_NAMES.ropeFreqs) : undefined;
  let ropeFreqFactors: Float32Array | undefined;
  if (freqs !== undefined) {
    if (freqs.shape.length !== 1) throw new FileFormatError(file, `tensor ${freqs.name} has shape [${freqs.shape.join(", ")}], expected one dimension`);
    ropeFreqFactors = new Float32Array(freqs.shape[0]!);
    dequantizeTensorRow(freqs, 0, ropeFreqFactors);
  }
  return {
    name: architecture.name,
    ropeStyle: architecture.ropeStyle,
    qkvBias,
    qkNorm: architecture.qkNorm,
    ropePositionScale: ropePositionScale(architecture, metadata, file),
    ropeFreqFactors,
  };
}

/**
 * 1 / the linear scaling factor (`<arch>.rope.scaling.type` = "linear" with `rope.scaling.factor`, or the older
 * `rope.scale_linear`); 1 without scaling. YaRN and other schemes change more than positions: refused.
 */
function ropePositionScale(architecture: Architecture, metadata: GgufMetadata, file: string): number {
  const key = (suffix: string) => `${architecture.name}.${suffix}`;
  const type = metadataString(metadata, key("rope.scaling.type"), file);
  const factor = metadataNumber(metadata, key("rope.scaling.factor"), file) ?? metadataNumber(metadata, key("rope.scale_linear"), file);
  if (type !== undefined && type !== "none" && type !== "linear") {
    throw new UnsupportedError(`${file}: rope scaling "${type}" is not supported (only none and linear)`);
  }
  if (type === "none" || factor === undefined || factor === 0 || factor === 1) return 1;
  if (!(factor > 1) || !Number.isFinite(factor)) throw new FileFormatError(file, `rope scaling factor ${factor} is not a number > 1`);
  return 1 / factor;
}

function vocabularySize(tensors: ReadonlyMap<string, TensorView>, vocabulary: GgufVocabulary | undefined, file: string): number {
  if (vocabulary !== undefined) return vocabulary.tokens.length;
  const embedding = tensors.get(TENSOR_NAMES.tokenEmbedding);
  if (embedding === undefined || embedding.shape.length !== 2) {
    throw new FileFormatError(file, `has neither tokenizer.ggml.tokens nor a 2-D ${TENSOR_NAMES.tokenEmbedding} to size the vocabulary`);
  }
  return embedding.shape[1]!;
}
