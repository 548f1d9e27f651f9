/**
 * llama2.c checkpoint + tokenizer -> GGUF v3 "llama" model, like llama.cpp's convert-llama2c-to-ggml: the llama.*
 * hyper-parameters, the SentencePiece vocabulary under tokenizer.ggml.*, and the weights with the matrices in the
 * requested type (norms stay F32). Tensors are converted and written one at a time, never all in memory.
 */
import { basename, extname } from "node:path";
import { FileFormatError } from "../util/errors.js";
import { GGML_TYPES, quantizeValues } from "./gguf/ggmlTypes.js";
import { writeGgufFile, type GgufTensorSpec } from "./gguf/writeGguf.js";
import { parseLlama2cCheckpoint } from "./llama2c.js";
import { loadLlama2cTokenizerFile } from "./llama2cTokenizerFile.js";
import { llamaModelMetadata, llamaVocabularyMetadata } from "./llamaGgufMetadata.js";
import { llamaTensorShapes, storageTypeFor } from "./llamaTensors.js";
import { readWholeFile } from "./readWholeFile.js";
import type { TensorType, TensorView } from "./tensor.js";

/** What was written: every tensor with the type it was stored in (see storageTypeFor for fallbacks). */
export type ConvertedTensor = GgufTensorSpec;

export async function convertLlama2cToGguf(
  binPath: string,
  tokenizerPath: string,
  outPath: string,
  type: TensorType,
): Promise<readonly ConvertedTensor[]> {
  const checkpoint = parseLlama2cCheckpoint(await readWholeFile(binPath), binPath);
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
    type: storageTypeFor(type, shape),
  }));
  const metadata = [
    ...llamaModelMetadata(config, basename(binPath, extname(binPath)), type),
    ...llamaVocabularyMetadata(tokenizer.pieces, tokenizer.scores),
  ];
  await writeGgufFile(outPath, metadata, specs, (spec) => [encodeTensor(sourceTensors.get(spec.name)!, spec.type)]);
  return specs;
}

/** An F32 source tensor's values stored as `type`. */
function encodeTensor(source: TensorView, type: TensorType): Uint8Array {
  if (type === "f32") return source.data;
  const count = source.data.byteLength / 4;
  // [count] f32: a copy, since the source bytes need not be 4-aligned for a Float32Array view
  const values = new Float32Array(count);
  GGML_TYPES.f32.dequantizeRow(source.data, count, values);
  return quantizeValues(type, values);
}
