/**
 * Loading a model file of either supported format into one shape: config, tensors by name, metadata, vocabulary.
 * The format is told by content: the GGUF magic, else (a file named *.gguf must be GGUF) a llama2.c checkpoint,
 * whose exact-size check rejects anything else.
 */
import type { ModelConfig } from "../model/config.js";
import { FileFormatError } from "../util/errors.js";
import type { GgufValue } from "./gguf/ggufValue.js";
import { ggufVocabulary, type GgufVocabulary } from "./gguf/ggufVocabulary.js";
import { modelConfigFromGguf } from "./gguf/ggufModelConfig.js";
import { hasGgufMagic, parseGguf } from "./gguf/parseGguf.js";
import { parseLlama2cCheckpoint } from "./llama2c.js";
import { checkLlamaTensors } from "./llamaTensors.js";
import { readWholeFile, type ByteAllocator } from "./readWholeFile.js";
import type { TensorView } from "./tensor.js";

export type { GgufVocabulary } from "./gguf/ggufVocabulary.js";

export type ModelFormat = "gguf" | "llama2c";

export interface ModelFile {
  readonly path: string;
  readonly format: ModelFormat;
  readonly config: ModelConfig;
  /** Every tensor of the file by name (views into the file's bytes); `output.weight` is absent when tied. */
  readonly tensors: Map<string, TensorView>;
  /** GGUF metadata; empty for llama2.c. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** The GGUF tokenizer.ggml.* vocabulary, when the file has one (never for llama2.c). */
  readonly vocabulary?: GgufVocabulary;
}

/**
 * Reads and checks a model file: every required tensor present with the shape the config implies. `allocate`
 * places the file's bytes (default: an ordinary buffer); tensor views point into them.
 */
export async function loadModelFile(
  path: string,
  allocate?: ByteAllocator,
  onProgress?: (bytesRead: number, total: number) => void,
): Promise<ModelFile> {
  return parseModelFile(await readWholeFile(path, allocate, onProgress), path);
}

/** The same from bytes already in memory; `path` names the file in errors. */
export function parseModelFile(bytes: Uint8Array, path: string): ModelFile {
  if (hasGgufMagic(bytes) || path.toLowerCase().endsWith(".gguf")) return ggufModel(bytes, path);
  return llama2cModel(bytes, path);
}

function ggufModel(bytes: Uint8Array, path: string): ModelFile {
  const gguf = parseGguf(bytes, path);
  const tensors = new Map(gguf.tensors.map((t) => [t.name, t]));
  const vocabulary = ggufVocabulary(gguf.metadata, path);
  const config = modelConfigFromGguf(gguf.metadata, tensors, vocabulary, path);
  checkLlamaTensors(config, tensors, path);
  const file: ModelFile = { path, format: "gguf", config, tensors, metadata: gguf.metadata };
  return vocabulary === undefined ? file : { ...file, vocabulary };
}

function llama2cModel(bytes: Uint8Array, path: string): ModelFile {
  if (bytes.byteLength === 0) throw new FileFormatError(path, "is empty");
  const checkpoint = parseLlama2cCheckpoint(bytes, path);
  const tensors = new Map(checkpoint.tensors.map((t) => [t.name, t]));
  checkLlamaTensors(checkpoint.config, tensors, path);
  return { path, format: "llama2c", config: checkpoint.config, tensors, metadata: new Map() };
}
