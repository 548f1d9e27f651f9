/**
 * Model conversion to GGUF v3, tensors converted and written one at a time, never all in memory:
 *   - a llama2.c checkpoint + tokenizer -> a "llama" GGUF, like llama.cpp's convert-llama2c-to-ggml: the llama.*
 *     hyper-parameters, the SentencePiece vocabulary under tokenizer.ggml.*, and the weights;
 *   - a GGUF file with F32/F16/BF16 matrices -> the same file (every metadata entry kept, general.file_type set) with
 *     its matrices re-encoded.
 * Matrices are stored as the recipe says (weightRecipe.ts: one type, or the q4_k_m / q5_k_m mixes); norms and other
 * 1-D tensors stay as they are (F32 for llama2.c). Every quantized tensor's round-trip error is measured on the way
 * (roundTripError.ts) and returned with the list of what was written.
 */
import { FileFormatError, UsageError } from "../util/errors.js";
import { GGML_TYPES, quantizeValues, rowByteSize } from "./gguf/ggmlTypes.js";
import type { GgufValue } from "./gguf/ggufValue.js";
import { hasGgufMagic, parseGguf } from "./gguf/parseGguf.js";
import { writeGgufFile, type GgufMetadataEntry, type GgufTensorSpec, type WriteControl } from "./gguf/writeGguf.js";
import { parseLlama2cCheckpoint } from "./llama2c.js";
import { loadLlama2cTokenizerFile } from "./llama2cTokenizerFile.js";
import { llamaModelMetadata, llamaVocabularyMetadata } from "./llamaGgufMetadata.js";
import { llamaTensorShapes } from "./llamaTensors.js";
import { readWholeFile } from "./readWholeFile.js";
import { RoundTripErrors, type TypeError } from "./roundTripError.js";
import type { TensorType, TensorView } from "./tensor.js";
import { LLAMA_FILE_TYPES, tensorTypeFor, type WeightRecipe } from "./weightRecipe.js";

/** What was written: every tensor with the type it was stored in (see weightRecipe.ts for fallbacks and mixes). */
export type ConvertedTensor = GgufTensorSpec;

export interface ConversionResult {
  readonly tensors: readonly ConvertedTensor[];
  /** per stored quantized type: tensors, values, relative RMS error, worst error as a fraction of its bound */
  readonly errors: readonly TypeError[];
}

/**
 * Progress and Ctrl-C of a conversion: `onRead` while the input is read, `write.onProgress` while the output is
 * written; when `write.signal` is aborted the conversion stops after the current chunk of rows (~1M values), removes
 * its temporary file, leaves OUT as it was and throws an InterruptedError.
 */
export interface ConvertControl {
  readonly onRead?: (bytesRead: number, fileBytes: number) => void;
  readonly write?: WriteControl;
}

/** Values re-encoded per chunk: a Ctrl-C or a progress update waits for at most one chunk (~10-100 ms). */
const CHUNK_VALUES = 1 << 20;

/** Source types a matrix may be re-encoded from (re-quantizing quantized weights would compound their error). */
const FLOAT_SOURCES: readonly TensorType[] = ["f32", "f16", "bf16"];

export async function convertLlama2cToGguf(
  binPath: string,
  tokenizerPath: string,
  outPath: string,
  recipe: WeightRecipe,
): Promise<readonly ConvertedTensor[]> {
  return (await convertLlama2c(binPath, tokenizerPath, outPath, recipe)).tensors;
}

export async function convertLlama2c(
  binPath: string,
  tokenizerPath: string,
  outPath: string,
  recipe: WeightRecipe,
  control: ConvertControl = {},
): Promise<ConversionResult> {
  const checkpoint = parseLlama2cCheckpoint(await readWholeFile(binPath, undefined, control.onRead), binPath);
  const { config } = checkpoint;
  const tokenizer = await loadLlama2cTokenizerFile(tokenizerPath);
  if (tokenizer.pieces.length !== config.vocabSize) {
    throw new FileFormatError(
      tokenizerPath,
      `has ${tokenizer.pieces.length} tokens but the model ${binPath} has a vocabulary of ${config.vocabSize}`,
    );
  }
  const invalid = tokenizer.validUtf8.indexOf(false);
  if (invalid >= 0) throw new FileFormatError(tokenizerPath, `token ${invalid} is not valid UTF-8 and cannot be a GGUF string`);

  const sourceTensors = new Map(checkpoint.tensors.map((t) => [t.name, t]));
  const specs: ConvertedTensor[] = llamaTensorShapes(config, checkpoint.tiedClassifier).map(({ name, shape }) => ({
    name,
    shape,
    type: tensorTypeFor(recipe, name, shape, config.nLayers),
  }));
  const metadata = [
    ...llamaModelMetadata(config, fileStem(binPath), recipe),
    ...llamaVocabularyMetadata(tokenizer.pieces, tokenizer.scores),
  ];
  const errors = new RoundTripErrors();
  await writeGgufFile(outPath, metadata, specs, (spec) => encodeTensor(sourceTensors.get(spec.name)!, spec.type, errors), control.write);
  return { tensors: specs, errors: errors.summary() };
}

/**
 * GGUF -> GGUF with the matrices re-encoded per `recipe`. Checked before anything is written: the file parses, names
 * its architecture and block count, and every matrix to re-encode is F32, F16 or BF16 (or already of its target type,
 * then copied as it is).
 */
export async function convertGguf(inPath: string, outPath: string, recipe: WeightRecipe, control: ConvertControl = {}): Promise<ConversionResult> {
  const bytes = await readWholeFile(inPath, undefined, control.onRead);
  if (!hasGgufMagic(bytes)) throw new FileFormatError(inPath, "is not a GGUF file");
  const gguf = parseGguf(bytes, inPath);
  const architecture = stringEntry(gguf.metadata.get("general.architecture"), "general.architecture", inPath);
  const blockCount = gguf.metadata.get(`${architecture}.block_count`);
  const nLayers = blockCount !== undefined && "value" in blockCount && typeof blockCount.value === "number" ? blockCount.value : NaN;
  if (!Number.isInteger(nLayers) || nLayers < 1) throw new FileFormatError(inPath, `has no positive integer ${architecture}.block_count`);
  const specs: ConvertedTensor[] = gguf.tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    type: t.shape.length < 2 ? t.type : tensorTypeFor(recipe, t.name, t.shape, nLayers),
  }));
  specs.forEach((spec, i) => {
    const source = gguf.tensors[i]!;
    if (spec.type !== source.type && !FLOAT_SOURCES.includes(source.type)) {
      throw new UsageError(
        `${inPath}: tensor ${source.name} is ${GGML_TYPES[source.type].name}; convert from a file whose matrices are F32, F16 or BF16 ` +
          "(re-quantizing quantized weights compounds their error)",
      );
    }
  });
  const metadata: GgufMetadataEntry[] = [...gguf.metadata]
    .filter(([key]) => key !== "general.file_type")
    .map(([key, value]) => ({ key, value }));
  metadata.splice(1, 0, { key: "general.file_type", value: { type: "u32", value: LLAMA_FILE_TYPES[recipe] } });
  const errors = new RoundTripErrors();
  await writeGgufFile(outPath, metadata, specs, (spec, i) => encodeTensor(gguf.tensors[i]!, spec.type, errors), control.write);
  return { tensors: specs, errors: errors.summary() };
}

function stringEntry(value: GgufValue | undefined, key: string, file: string): string {
  if (value === undefined || value.type !== "string") throw new FileFormatError(file, `has no string ${key}`);
  return value.value;
}

/**
 * A float source tensor's values stored as `type`, in chunks of whole rows (its round-trip error recorded when
 * `type` is quantized); the source bytes themselves when the type is unchanged.
 */
function* encodeTensor(source: TensorView, type: TensorType, errors: RoundTripErrors): Generator<Uint8Array> {
  if (type === source.type) {
    yield source.data;
    return;
  }
  const traits = GGML_TYPES[source.type];
  const count = (source.data.byteLength / traits.bytesPerBlock) * traits.blockSize;
  const cols = source.shape[0] ?? count;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / cols));
  const sourceRowBytes = rowByteSize(source.type, cols);
  // [rowsPerChunk·cols] f32: a copy, since the source bytes need not be aligned for a typed-array view
  const chunk = new Float32Array(Math.min(count, rowsPerChunk * cols));
  for (let first = 0; first * cols < count; first += rowsPerChunk) {
    const n = Math.min(rowsPerChunk * cols, count - first * cols);
    const values = chunk.subarray(0, n);
    traits.dequantizeRow(source.data.subarray(first * sourceRowBytes, first * sourceRowBytes + (n / cols) * sourceRowBytes), n, values);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(values[i]!)) throw new UsageError(`tensor ${source.name} holds a non-finite value at index ${first * cols + i}`);
    }
    const stored = quantizeValues(type, values);
    if (GGML_TYPES[type].blockSize > 1) errors.add(type, values, stored, first === 0);
    yield stored;
  }
}

/** The file name without folders and without its last extension ("a/b/stories260K.bin" -> "stories260K"). */
function fileStem(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}
