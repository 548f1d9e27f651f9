/**
 * Writes a compatibility case (compatCases.ts) as a GGUF file with the project's writer: the same case always gives
 * the same bytes (xoshiro from the case's seed, integer draws only). Weights are scaled so that the model is peaked
 * (greedy decisions are not near-ties that float rounding could flip) and attention is not uniform:
 *   matrices  uniform(-g/sqrt(cols), g/sqrt(cols)), g = 2 for attn_q/attn_k (sharper attention), 1 otherwise
 *   token_embd uniform(-0.05, 0.05): small next to what the layers add to the residual stream, so that a tied
 *     classifier does not simply predict the input token again (its own row would dominate the logits)
 *   norms uniform(0.8, 1.2); q/k/v biases uniform(-0.5, 0.5)
 *   output_norm set so that the logits have a standard deviation near LOGIT_STD nats
 */
import { fileURLToPath } from "node:url";
import { validateModelConfig, type ModelConfig } from "../../model/config.js";
import { Rng } from "../../util/rng.js";
import { GGML_TYPES, tensorByteSize } from "../../format/gguf/ggmlTypes.js";
import { writeGgufFile, type GgufTensorSpec } from "../../format/gguf/writeGguf.js";
import type { GgufMetadataEntry } from "../../format/gguf/layoutGguf.js";
import { llamaModelMetadata, llamaVocabularyMetadata } from "../../format/llamaGgufMetadata.js";
import { llamaTensorShapes } from "../../format/llamaTensors.js";
import { tensorTypeFor } from "../../format/weightRecipe.js";
import { syntheticVocabulary } from "../../format/syntheticVocabulary.js";
import { bpeVocabularyMetadata, syntheticBpeVocabulary } from "../../format/syntheticBpeVocabulary.js";
import { TENSOR_NAMES } from "../../format/tensor.js";
import { FileFormatError } from "../../util/errors.js";
import { convertReference, readReferenceFiles } from "../tokenizer/referenceVocabularies.js";
import { COMPAT_CONTEXT, isRealVocabulary, llama3RopeFactors, type CompatCase } from "./compatCases.js";

/** Where node_modules holds the tokenizer.json files of the real vocabularies (dist/src/bench/compat -> root). */
const PROJECT_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

const LOGIT_STD = 5;
const EMBEDDING_AMPLITUDE = 0.05;

export function compatConfig(c: CompatCase): ModelConfig {
  const config: ModelConfig = {
    dim: c.dim,
    hiddenDim: c.hiddenDim,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    headDim: c.headDim,
    vocabSize: c.vocabSize,
    seqLen: COMPAT_CONTEXT,
    ropeTheta: c.ropeTheta,
    normEps: c.normEps,
    arch: { ...c.arch, ropeFreqFactors: c.llama3Rope ? llama3RopeFactors(c.headDim, c.ropeTheta) : undefined },
  };
  return validateModelConfig(config, c.id);
}

/** Converted real vocabularies, by name: converting Qwen's 151669 tokens and 151387 merges takes a moment. */
const converted = new Map<string, readonly GgufMetadataEntry[]>();

function vocabularyMetadata(c: CompatCase): readonly GgufMetadataEntry[] {
  if (isRealVocabulary(c.vocabulary)) {
    let entries = converted.get(c.vocabulary);
    if (entries === undefined) {
      const vocabulary = convertReference(readReferenceFiles(PROJECT_ROOT, c.vocabulary));
      if (vocabulary.vocabSize !== c.vocabSize) {
        throw new FileFormatError(c.vocabulary, `the converted vocabulary has ${vocabulary.vocabSize} ids, case ${c.id} says ${c.vocabSize}`);
      }
      entries = vocabulary.entries;
      converted.set(c.vocabulary, entries);
    }
    return entries;
  }
  if (c.vocabulary === "sentencepiece") {
    const v = syntheticVocabulary(c.vocabSize);
    return llamaVocabularyMetadata(v.pieces, v.scores);
  }
  return bpeVocabularyMetadata(syntheticBpeVocabulary(c.vocabSize), "qwen2");
}

/** Writes the case's GGUF at `path` and returns its config. */
export async function writeCompatModel(path: string, c: CompatCase): Promise<ModelConfig> {
  const config = compatConfig(c);
  const metadata = [...llamaModelMetadata(config, `qaq-compat-${c.id}`, c.weightType), ...vocabularyMetadata(c)];
  const specs = llamaTensorShapes(config, c.tiedEmbeddings).map(({ name, shape }) => ({
    name, shape, type: tensorTypeFor(c.weightType, name, shape, config.nLayers),
  }));
  const rng = new Rng(c.seed);
  // tensors are asked for in order, so one generator gives a reproducible file
  await writeGgufFile(path, metadata, specs, (spec) => {
    const bytes = new Uint8Array(tensorByteSize(spec.type, spec.shape));
    GGML_TYPES[spec.type].quantizeRow(values(spec, config, c, rng), bytes);
    return [bytes];
  });
  return config;
}

function values(spec: GgufTensorSpec, config: ModelConfig, c: CompatCase, rng: Rng): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const uniform = (lo: number, hi: number) => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = lo + ((hi - lo) * rng.nextU32()) / 4294967296;
    return out;
  };
  const name = spec.name;
  if (name === TENSOR_NAMES.ropeFreqs) return config.arch.ropeFreqFactors!;
  if (name === TENSOR_NAMES.tokenEmbedding) return uniform(-EMBEDDING_AMPLITUDE, EMBEDDING_AMPLITUDE);
  if (name === TENSOR_NAMES.outputNorm) {
    // logit = Σ_j E[t, j]·n_j·w_j with n of RMS 1 and E uniform(-A, A): std ≈ w·A·sqrt(dim/3)
    const amplitude = c.tiedEmbeddings ? EMBEDDING_AMPLITUDE : 1 / Math.sqrt(config.dim);
    const w = LOGIT_STD / (amplitude * Math.sqrt(config.dim / 3));
    return uniform(0.9 * w, 1.1 * w);
  }
  if (name.endsWith(".bias")) return uniform(-0.5, 0.5);
  if (name.endsWith("_norm.weight")) return uniform(0.8, 1.2);
  const cols = spec.shape[0]!;
  const gain = name.endsWith("attn_q.weight") || name.endsWith("attn_k.weight") ? 2 : 1;
  const a = gain / Math.sqrt(cols);
  return uniform(-a, a);
}
