/**
 * The tensors a LLaMA model consists of, with their ggml-order shapes ([cols, rows] for a matrix of `rows` outputs),
 * the check that a model file holds all of them with those shapes, and the type each is written in.
 */
import { queryDim, type ModelConfig } from "../model/config.js";
import { FileFormatError } from "../util/errors.js";
import { TENSOR_NAMES, type TensorView } from "./tensor.js";

export interface LlamaTensorShape {
  readonly name: string;
  /** ggml order: [dim] for a norm, [cols, rows] for a matrix. */
  readonly shape: readonly number[];
}

/**
 * Every tensor of the model in the order llama.cpp's llama2.c converter writes them (embedding, final norm, classifier,
 * then the blocks); `output.weight` only for an untied classifier. The architecture's options add rope_freqs, the
 * q/k/v biases and the per-head q/k norms.
 */
export function llamaTensorShapes(config: ModelConfig, tiedClassifier: boolean): LlamaTensorShape[] {
  return [...expectedTensorShapes(config, tiedClassifier)];
}

/** The same, one tensor at a time (checking a file never materializes the list its header could make huge). */
function* expectedTensorShapes(config: ModelConfig, tiedClassifier: boolean): Generator<LlamaTensorShape> {
  const { dim, hiddenDim, nLayers, vocabSize, nKvHeads, headDim, arch } = config;
  const kvDim = nKvHeads * headDim;
  const qDim = queryDim(config);
  yield { name: TENSOR_NAMES.tokenEmbedding, shape: [dim, vocabSize] };
  yield { name: TENSOR_NAMES.outputNorm, shape: [dim] };
  if (!tiedClassifier) yield { name: TENSOR_NAMES.output, shape: [dim, vocabSize] };
  if (arch.ropeFreqFactors !== undefined) yield { name: TENSOR_NAMES.ropeFreqs, shape: [headDim / 2] };
  for (let layer = 0; layer < nLayers; layer++) {
    yield { name: TENSOR_NAMES.attnNorm(layer), shape: [dim] };
    yield { name: TENSOR_NAMES.wq(layer), shape: [dim, qDim] };
    yield { name: TENSOR_NAMES.wk(layer), shape: [dim, kvDim] };
    yield { name: TENSOR_NAMES.wv(layer), shape: [dim, kvDim] };
    if (arch.qkvBias) {
      yield { name: TENSOR_NAMES.qBias(layer), shape: [qDim] };
      yield { name: TENSOR_NAMES.kBias(layer), shape: [kvDim] };
      yield { name: TENSOR_NAMES.vBias(layer), shape: [kvDim] };
    }
    if (arch.qkNorm) {
      yield { name: TENSOR_NAMES.qNorm(layer), shape: [headDim] };
      yield { name: TENSOR_NAMES.kNorm(layer), shape: [headDim] };
    }
    yield { name: TENSOR_NAMES.wo(layer), shape: [qDim, dim] };
    yield { name: TENSOR_NAMES.ffnNorm(layer), shape: [dim] };
    yield { name: TENSOR_NAMES.ffnGate(layer), shape: [dim, hiddenDim] };
    yield { name: TENSOR_NAMES.ffnDown(layer), shape: [hiddenDim, dim] };
    yield { name: TENSOR_NAMES.ffnUp(layer), shape: [dim, hiddenDim] };
  }
}

/**
 * Throws a FileFormatError naming the first required tensor that is missing or has another shape. The classifier
 * is tied exactly when `output.weight` is absent.
 */
export function checkLlamaTensors(config: ModelConfig, tensors: ReadonlyMap<string, TensorView>, file: string): void {
  const tied = !tensors.has(TENSOR_NAMES.output);
  // shapes one at a time, not a list: a block_count of 2^24 in a small file fails at its first missing tensor
  // instead of building 150M shape records first
  for (const { name, shape } of expectedTensorShapes(config, tied)) {
    const tensor = tensors.get(name);
    if (tensor === undefined) throw new FileFormatError(file, `missing tensor ${name} (expected shape [${shape.join(", ")}])`);
    const same = tensor.shape.length === shape.length && tensor.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new FileFormatError(file, `tensor ${name} has shape [${tensor.shape.join(", ")}], expected [${shape.join(", ")}]`);
    }
  }
}

export { storageTypeFor } from "./weightRecipe.js";
