/**
 * Reader of llama2.c "v0" (legacy) checkpoints, such as stories260K.bin. Layout, little-endian:
 *
 *   7 x int32 header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
 *                     (vocab_size < 0 means an untied classifier of |vocab_size| rows, stored at the very end)
 *   float32 weights, each block row-major [rows][cols], all layers of one kind back to back:
 *     token_embedding [vocab, dim]
 *     rms_att         [L, dim]
 *     wq [L, dim, dim]   wk [L, kv_dim, dim]   wv [L, kv_dim, dim]   wo [L, dim, dim]
 *     rms_ffn         [L, dim]
 *     w1 [L, hidden, dim]   w2 [L, dim, hidden]   w3 [L, hidden, dim]
 *     rms_final       [dim]
 *     freq_cis_real, freq_cis_imag   [seq_len, head_size / 2] each (legacy, unused)
 *     wcls            [vocab, dim]   (only when vocab_size < 0)
 *
 * The weights become F32 TensorViews under the GGUF names (w1 = ffn_gate, w2 = ffn_down, w3 = ffn_up) with
 * ggml-order shapes [cols, rows]; the data are views into the file's bytes. The format has no magic, so the exact
 * file size the header implies is what tells a checkpoint from a truncated or foreign file.
 */
import { PLAIN_LLAMA } from "../model/architectures/llama.js";
import { validateModelConfig, type ModelConfig } from "../model/config.js";
import { FileFormatError } from "../util/errors.js";
import { TENSOR_NAMES, type TensorView } from "./tensor.js";

export interface Llama2cCheckpoint {
  readonly config: ModelConfig;
  /** True when the classifier is the token embedding (no output.weight tensor). */
  readonly tiedClassifier: boolean;
  /** In file order. */
  readonly tensors: readonly TensorView[];
}

const HEADER_INTS = 7;
const HEADER_BYTES = HEADER_INTS * 4;
const FLOAT_BYTES = 4;
/** Header values above this (validateModelConfig's limit) mean the bytes are not a checkpoint header. */
const MAX_HEADER_VALUE = 1 << 24;
/** llama2.c's defaults: the format stores neither. */
export const LLAMA2C_ROPE_THETA = 10000;
export const LLAMA2C_NORM_EPS = 1e-5;

export function parseLlama2cCheckpoint(bytes: Uint8Array, file: string): Llama2cCheckpoint {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new FileFormatError(file, `is ${bytes.byteLength} bytes, too short for a llama2.c checkpoint header (${HEADER_BYTES} bytes)`);
  }
  const header = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, signedVocab, seqLen] = Array.from({ length: HEADER_INTS }, (_, i) =>
    header.getInt32(i * 4, true),
  ) as [number, number, number, number, number, number, number];
  const headerText = `dim ${dim}, hidden_dim ${hiddenDim}, n_layers ${nLayers}, n_heads ${nHeads}, n_kv_heads ${nKvHeads}, vocab_size ${signedVocab}, seq_len ${seqLen}`;
  const plausible = (v: number) => v > 0 && v <= MAX_HEADER_VALUE;
  if (![dim, hiddenDim, nLayers, nHeads, nKvHeads, Math.abs(signedVocab), seqLen].every(plausible)) {
    throw new FileFormatError(file, `not a GGUF file and not a llama2.c checkpoint: its header reads ${headerText}`);
  }
  const tiedClassifier = signedVocab > 0;
  const config = validateModelConfig(
    {
      dim,
      hiddenDim,
      nLayers,
      nHeads,
      nKvHeads,
      headDim: dim / nHeads,
      vocabSize: Math.abs(signedVocab),
      seqLen,
      ropeTheta: LLAMA2C_ROPE_THETA,
      normEps: LLAMA2C_NORM_EPS,
      arch: PLAIN_LLAMA,
    },
    file,
  );

  // the size check comes before the layout: a header of 2^24 layers must fail here, not build 150M tensor records
  const expectedBytes = HEADER_BYTES + weightFloatCount(config, tiedClassifier) * FLOAT_BYTES;
  if (bytes.byteLength !== expectedBytes) {
    const problem = bytes.byteLength < expectedBytes ? "truncated or not a llama2.c checkpoint" : "not a llama2.c checkpoint, or a newer version of the format";
    throw new FileFormatError(
      file,
      `is ${bytes.byteLength} bytes but a llama2.c checkpoint with this header (${headerText}) is exactly ${expectedBytes} bytes: ${problem}`,
    );
  }
  const layout = weightLayout(config, tiedClassifier);
  const tensors = layout.tensors.map(({ name, shape, floatOffset }) => {
    const start = HEADER_BYTES + floatOffset * FLOAT_BYTES;
    const length = shape.reduce((product, d) => product * d, 1) * FLOAT_BYTES;
    return { name, type: "f32" as const, shape, data: bytes.subarray(start, start + length) };
  });
  return { config, tiedClassifier, tensors };
}

/** The float count after the header that weightLayout places, by arithmetic alone (no allocation). */
function weightFloatCount(config: ModelConfig, tiedClassifier: boolean): number {
  const { dim, hiddenDim, nLayers, nKvHeads, headDim, vocabSize, seqLen } = config;
  const kvDim = nKvHeads * headDim;
  const perLayer = 2 * dim + 2 * dim * dim + 2 * dim * kvDim + 3 * dim * hiddenDim;
  return vocabSize * dim * (tiedClassifier ? 1 : 2) + nLayers * perLayer + dim + seqLen * headDim;
}

interface PlacedTensor {
  readonly name: string;
  /** ggml order */
  readonly shape: readonly number[];
  /** Position of the first float after the header. */
  readonly floatOffset: number;
}

/** Where every tensor sits in the file, and the number of floats after the header. */
function weightLayout(config: ModelConfig, tiedClassifier: boolean): { tensors: PlacedTensor[]; totalFloats: number } {
  const { dim, hiddenDim, nLayers, nKvHeads, headDim, vocabSize, seqLen } = config;
  const kvDim = nKvHeads * headDim;
  const tensors: PlacedTensor[] = [];
  let cursor = 0;
  const place = (name: string, shape: readonly number[]) => {
    tensors.push({ name, shape, floatOffset: cursor });
    cursor += shape.reduce((product, d) => product * d, 1);
  };
  /** One block of all layers of a kind: layer l's matrix follows layer l-1's. */
  const perLayer = (name: (layer: number) => string, shape: readonly number[]) => {
    for (let layer = 0; layer < nLayers; layer++) place(name(layer), shape);
  };

  place(TENSOR_NAMES.tokenEmbedding, [dim, vocabSize]);
  perLayer(TENSOR_NAMES.attnNorm, [dim]);
  perLayer(TENSOR_NAMES.wq, [dim, dim]);
  perLayer(TENSOR_NAMES.wk, [dim, kvDim]);
  perLayer(TENSOR_NAMES.wv, [dim, kvDim]);
  perLayer(TENSOR_NAMES.wo, [dim, dim]);
  perLayer(TENSOR_NAMES.ffnNorm, [dim]);
  perLayer(TENSOR_NAMES.ffnGate, [dim, hiddenDim]);
  perLayer(TENSOR_NAMES.ffnDown, [hiddenDim, dim]);
  perLayer(TENSOR_NAMES.ffnUp, [dim, hiddenDim]);
  place(TENSOR_NAMES.outputNorm, [dim]);
  cursor += 2 * seqLen * (headDim / 2); // freq_cis_real and freq_cis_imag, skipped
  if (!tiedClassifier) place(TENSOR_NAMES.output, [dim, vocabSize]);
  return { tensors, totalFloats: cursor };
}
