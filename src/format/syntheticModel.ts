/**
 * Synthetic LLaMA models for benchmarks and tests at sizes no bundled model has (e.g. the TinyLlama-1.1B shape:
 * dim 2048, 22 layers, vocab 32000, ~1.2 GB in Q8_0). Weights are seeded uniform noise in (-a, a) with
 * a = 1/sqrt(cols), so each matrix-vector product keeps activations O(1); norms are 1. The file is streamed to
 * disk a few rows at a time (a chunk is ~1M values), so memory use does not depend on the model size.
 */
import { PLAIN_LLAMA } from "../model/architectures/llama.js";
import { validateModelConfig, type ModelConfig } from "../model/config.js";
import { ConfigError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { GGML_TYPES, rowByteSize } from "./gguf/ggmlTypes.js";
import { writeGgufFile, type GgufMetadataEntry, type GgufTensorSpec } from "./gguf/writeGguf.js";
import { llamaModelMetadata, llamaVocabularyMetadata } from "./llamaGgufMetadata.js";
import { llamaTensorShapes } from "./llamaTensors.js";
import { tensorTypeFor, type WeightRecipe } from "./weightRecipe.js";
import { syntheticVocabulary } from "./syntheticVocabulary.js";

export interface SyntheticLlamaShape {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly vocabSize: number;
  readonly seqLen: number;
}

/** Values generated and encoded per chunk: large enough to amortise a write, small enough to stay cache-friendly. */
const CHUNK_VALUES = 1 << 20;
const ROPE_THETA = 10000;
const NORM_EPS = 1e-5;

/**
 * Writes a synthetic GGUF llama model with an untied classifier; the same (shape, type, seed) always gives the same
 * bytes. Returns the tensors with the types they were stored in. `vocabulary` replaces the made-up SentencePiece
 * vocabulary with given tokenizer.* entries (e.g. a converted tokenizer.json) of shape.vocabSize tokens.
 */
export async function writeSyntheticLlamaGguf(
  path: string,
  shape: SyntheticLlamaShape,
  type: WeightRecipe,
  seed: number,
  vocabulary?: readonly GgufMetadataEntry[],
): Promise<readonly GgufTensorSpec[]> {
  const config = syntheticConfig(shape, path);
  const metadata = [
    ...llamaModelMetadata(config, `synthetic-llama-${config.nLayers}x${config.dim}`, type),
    ...(vocabulary ?? syntheticVocabularyMetadata(config.vocabSize)),
  ];
  const specs = llamaTensorShapes(config, false).map(({ name, shape: dims }) => ({
    name,
    shape: dims,
    type: tensorTypeFor(type, name, dims, config.nLayers),
  }));
  const rng = new Rng(seed); // tensors are written in order, so one generator gives a reproducible file
  await writeGgufFile(path, metadata, specs, (spec) => (spec.shape.length === 1 ? [ones(spec.shape[0]!)] : randomMatrix(spec, rng)));
  return specs;
}

function syntheticVocabularyMetadata(vocabSize: number): GgufMetadataEntry[] {
  const { pieces, scores } = syntheticVocabulary(vocabSize);
  return llamaVocabularyMetadata(pieces, scores);
}

function syntheticConfig(shape: SyntheticLlamaShape, path: string): ModelConfig {
  for (const [key, value] of Object.entries(shape)) {
    if (!Number.isInteger(value) || value < 1 || value > 1 << 24) {
      throw new ConfigError(`shape.${key}`, `an integer in 1..${1 << 24}`, value);
    }
  }
  const { dim, nHeads, nKvHeads } = shape;
  if (dim % nHeads !== 0 || (dim / nHeads) % 2 !== 0) {
    throw new ConfigError("shape.nHeads", `a divisor of dim ${dim} leaving an even head size`, nHeads);
  }
  if (nHeads % nKvHeads !== 0) throw new ConfigError("shape.nKvHeads", `a divisor of nHeads ${nHeads}`, nKvHeads);
  const config = { ...shape, headDim: dim / nHeads, ropeTheta: ROPE_THETA, normEps: NORM_EPS, arch: PLAIN_LLAMA };
  return validateModelConfig(config, path);
}

/** [n] f32 ones: a norm weight. */
function ones(n: number): Uint8Array {
  return new Uint8Array(new Float32Array(n).fill(1).buffer);
}

/** A [cols, rows] matrix of uniform(-a, a) values, a = 1/sqrt(cols), encoded as spec.type a few rows at a time. */
function* randomMatrix(spec: GgufTensorSpec, rng: Rng): Generator<Uint8Array> {
  const [cols, rows] = spec.shape as [number, number];
  const traits = GGML_TYPES[spec.type];
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / cols));
  // [rowsPerChunk, cols] values and their encoding; refilled for every chunk (the writer copies or writes first)
  const values = new Float32Array(rowsPerChunk * cols);
  const encoded = new Uint8Array(rowsPerChunk * rowByteSize(spec.type, cols));
  const amplitude = 1 / Math.sqrt(cols);
  const step = (2 * amplitude) / 4294967296;
  for (let row = 0; row < rows; row += rowsPerChunk) {
    const chunkRows = Math.min(rowsPerChunk, rows - row);
    const chunkValues = values.subarray(0, chunkRows * cols);
    for (let i = 0; i < chunkValues.length; i++) chunkValues[i] = rng.nextU32() * step - amplitude;
    const chunkBytes = encoded.subarray(0, chunkRows * rowByteSize(spec.type, cols));
    traits.quantizeRow(chunkValues, chunkBytes);
    yield chunkBytes;
  }
}
