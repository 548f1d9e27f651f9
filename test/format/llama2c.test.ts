import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseLlama2cCheckpoint } from "../../src/format/llama2c.js";
import { TENSOR_NAMES } from "../../src/format/tensor.js";
import { FileFormatError } from "../../src/util/errors.js";
import { handMadeCheckpoint } from "./handMadeFiles.js";
import { missingSharedReason, readGoldenConfig, stories260KBinPath } from "./sharedModelFiles.js";

function firstFloat(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, 4).getFloat32(0, true);
}

test("stories260K.bin: the config equals the golden header, the classifier is tied", { skip: missingSharedReason }, () => {
  const golden = readGoldenConfig();
  const { config, tiedClassifier, tensors } = parseLlama2cCheckpoint(readFileSync(stories260KBinPath), "stories260K.bin");
  assert.deepEqual(
    [config.dim, config.hiddenDim, config.nLayers, config.nHeads, config.nKvHeads, config.vocabSize, config.seqLen],
    [golden.dim, golden.hidden, golden.n_layers, golden.n_heads, golden.n_kv_heads, golden.vocab, golden.seq_len],
  );
  assert.equal(config.headDim, golden.dim / golden.n_heads);
  assert.equal(tiedClassifier, golden.shared);
  assert.equal(config.ropeTheta, 10000);
  assert.equal(config.normEps, 1e-5);
  assert.equal(tensors.length, 2 + 9 * golden.n_layers);
  assert.equal(tensors.some((t) => t.name === TENSOR_NAMES.output), false);
});

test("an untied checkpoint: every tensor at its documented place, ggml shapes, wcls after freq_cis", () => {
  const { config, tiedClassifier, tensors } = parseLlama2cCheckpoint(handMadeCheckpoint(), "untied.bin");
  assert.equal(tiedClassifier, false);
  assert.equal(config.vocabSize, 10);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const expected: [string, number[], number][] = [
    [TENSOR_NAMES.tokenEmbedding, [8, 10], 1],
    [TENSOR_NAMES.attnNorm(1), [8], 2],
    [TENSOR_NAMES.wq(1), [8, 8], 3],
    [TENSOR_NAMES.wk(0), [8, 4], 4],
    [TENSOR_NAMES.wv(1), [8, 4], 5],
    [TENSOR_NAMES.wo(0), [8, 8], 6],
    [TENSOR_NAMES.ffnNorm(1), [8], 7],
    [TENSOR_NAMES.ffnGate(1), [8, 12], 8],
    [TENSOR_NAMES.ffnDown(0), [12, 8], 9],
    [TENSOR_NAMES.ffnUp(1), [8, 12], 10],
    [TENSOR_NAMES.outputNorm, [8], 11],
    [TENSOR_NAMES.output, [8, 10], 12],
  ];
  for (const [name, shape, marker] of expected) {
    const tensor = byName.get(name)!;
    assert.deepEqual([tensor.type, tensor.shape], ["f32", shape], name);
    assert.equal(tensor.data.byteLength, shape.reduce((a, b) => a * b) * 4, name);
    const view = new DataView(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    for (let i = 0; i < tensor.data.byteLength; i += 4) assert.equal(view.getFloat32(i, true), marker, `${name} float ${i / 4}`);
  }
  assert.equal(firstFloat(byName.get(TENSOR_NAMES.output)!.data), 12);
});

test("a file whose size is not exactly what its header implies is rejected, naming the file and both sizes", () => {
  const bytes = handMadeCheckpoint();
  for (const wrong of [bytes.subarray(0, bytes.byteLength - 4), bytes.subarray(0, 40), new Uint8Array([...bytes, 0, 0, 0, 0])]) {
    assert.throws(
      () => parseLlama2cCheckpoint(wrong, "odd-size.bin"),
      (error: unknown) =>
        error instanceof FileFormatError && error.message.startsWith("odd-size.bin: ") && error.message.includes(`exactly ${bytes.byteLength} bytes`),
    );
  }
});

test("foreign and damaged headers fail with a FileFormatError naming the file", () => {
  const text = new TextEncoder().encode("Once upon a time there was a text file that was not a model at all.");
  assert.throws(() => parseLlama2cCheckpoint(text, "story.txt"), /story\.txt: not a GGUF file and not a llama2\.c checkpoint/);
  assert.throws(() => parseLlama2cCheckpoint(new Uint8Array(10), "short.bin"), /short\.bin: is 10 bytes, too short/);
  const badHeads = handMadeCheckpoint();
  new DataView(badHeads.buffer).setInt32(12, 3, true); // n_heads 3 does not divide dim 8
  assert.throws(() => parseLlama2cCheckpoint(badHeads, "heads.bin"), (e: unknown) => e instanceof FileFormatError && /^heads\.bin: /.test(e.message));
});
