import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelFile, parseModelFile } from "../../src/format/modelFile.js";
import { encodeGguf, type GgufMetadataEntry, type GgufTensorData } from "../../src/format/gguf/writeGguf.js";
import { llamaModelMetadata } from "../../src/format/llamaGgufMetadata.js";
import { llamaTensorShapes } from "../../src/format/llamaTensors.js";
import { TENSOR_NAMES } from "../../src/format/tensor.js";
import type { ModelConfig } from "../../src/model/config.js";
import { PLAIN_LLAMA } from "../../src/model/architectures/llama.js";
import { FileFormatError, UnsupportedError } from "../../src/util/errors.js";
import { missingSharedReason, stories260KBinPath, stories260KGgufPath, tok512Path, withTempDir } from "./sharedModelFiles.js";
import { parseLlama2cTokenizerFile } from "../../src/format/llama2cTokenizerFile.js";

const TINY: ModelConfig = {
  dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8, vocabSize: 300, seqLen: 16, ropeTheta: 5e5, normEps: 1e-6, arch: PLAIN_LLAMA,
};

/** The parts of a tiny llama GGUF (no vocabulary), for tests to break one at a time. */
function tinyParts(): { metadata: GgufMetadataEntry[]; tensors: GgufTensorData[] } {
  const metadata = llamaModelMetadata(TINY, "tiny", "f32");
  const tensors = llamaTensorShapes(TINY, true).map(({ name, shape }) => ({
    name, type: "f32" as const, shape, data: new Uint8Array(shape.reduce((a, b) => a * b) * 4),
  }));
  return { metadata, tensors };
}

function expectFailure(parts: { metadata: GgufMetadataEntry[]; tensors: GgufTensorData[] }, errorClass: typeof FileFormatError | typeof UnsupportedError, pattern: RegExp): void {
  assert.throws(
    () => parseModelFile(encodeGguf(parts.metadata, parts.tensors), "tiny.gguf"),
    (error: unknown) => error instanceof errorClass && error.message.includes("tiny.gguf") && pattern.test(error.message),
  );
}

test("stories260K: the GGUF and the llama2.c checkpoint hold bit-identical tensors and the same config", { skip: missingSharedReason }, async () => {
  // two files written by different tools from the same weights: agreement checks both readers' placement and shapes
  const gguf = await loadModelFile(stories260KGgufPath);
  const bin = await loadModelFile(stories260KBinPath);
  assert.equal(gguf.format, "gguf");
  assert.equal(bin.format, "llama2c");
  assert.deepEqual([...gguf.tensors.keys()].sort(), [...bin.tensors.keys()].sort());
  for (const [name, tensor] of bin.tensors) {
    const other = gguf.tensors.get(name)!;
    assert.deepEqual([other.type, other.shape], [tensor.type, tensor.shape], name);
    assert.ok(Buffer.from(other.data).equals(Buffer.from(tensor.data)), `${name} differs`);
  }
  assert.deepEqual({ ...gguf.config, normEps: 0 }, { ...bin.config, normEps: 0 });
  assert.equal(Math.fround(gguf.config.normEps), Math.fround(bin.config.normEps)); // stored as f32 in GGUF
  assert.equal(bin.metadata.size, 0);
  assert.equal(bin.vocabulary, undefined);
});

test("stories260K.f32.gguf: its vocabulary is tok512.bin's, with '▁' for spaces and ids as documented", { skip: missingSharedReason }, async () => {
  const vocabulary = (await loadModelFile(stories260KGgufPath)).vocabulary!;
  const tok = parseLlama2cTokenizerFile(readFileSync(tok512Path), tok512Path);
  assert.equal(vocabulary.model, "llama");
  assert.deepEqual([vocabulary.bosId, vocabulary.eosId, vocabulary.unknownId], [1, 2, 0]);
  assert.equal(vocabulary.tokens.length, 512);
  assert.deepEqual(vocabulary.scores, tok.scores);
  for (let id = 3; id < 512; id++) assert.equal(vocabulary.tokens[id]!.replaceAll("\u2581", " "), tok.pieces[id], `token ${id}`);
  assert.deepEqual(Array.from(vocabulary.tokenTypes!.subarray(0, 4)), [2, 3, 3, 6]);
});

test("GGUF defaults: head_count_kv = head_count, rope base 10000, eps 1e-5, vocab size from token_embd", () => {
  const parts = tinyParts();
  const dropped = ["llama.attention.head_count_kv", "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon"];
  parts.metadata = parts.metadata.filter((e) => !dropped.includes(e.key));
  parts.tensors = parts.tensors.map((t) =>
    t.name.endsWith("attn_k.weight") || t.name.endsWith("attn_v.weight") ? { ...t, shape: [32, 32], data: new Uint8Array(32 * 32 * 4) } : t,
  );
  const file = parseModelFile(encodeGguf(parts.metadata, parts.tensors), "tiny.gguf");
  assert.equal(file.config.nKvHeads, 4);
  assert.equal(file.config.ropeTheta, 10000);
  assert.equal(file.config.normEps, 1e-5);
  assert.equal(file.config.vocabSize, 300);
  assert.equal(file.vocabulary, undefined);
  assert.equal(file.tensors.has(TENSOR_NAMES.output), false);
});

test("a GGUF with another architecture is an UnsupportedError naming it", () => {
  const parts = tinyParts();
  parts.metadata = parts.metadata.map((e) => (e.key === "general.architecture" ? { key: e.key, value: { type: "string", value: "gpt2" } } : e));
  expectFailure(parts, UnsupportedError, /architecture "gpt2" is not supported/);
});

test("missing or misshaped tensors and missing or mistyped keys are named", () => {
  const without = (name: string) => {
    const parts = tinyParts();
    parts.tensors = parts.tensors.filter((t) => t.name !== name);
    return parts;
  };
  expectFailure(without(TENSOR_NAMES.ffnUp(1)), FileFormatError, /missing tensor blk\.1\.ffn_up\.weight \(expected shape \[32, 64\]\)/);
  const misshaped = tinyParts();
  misshaped.tensors = misshaped.tensors.map((t) => (t.name === TENSOR_NAMES.wq(0) ? { ...t, shape: [16, 64] } : t));
  expectFailure(misshaped, FileFormatError, /tensor blk\.0\.attn_q\.weight has shape \[16, 64\], expected \[32, 32\]/);

  const withMetadata = (change: (entries: GgufMetadataEntry[]) => GgufMetadataEntry[]) => {
    const parts = tinyParts();
    parts.metadata = change(parts.metadata);
    return parts;
  };
  expectFailure(withMetadata((m) => m.filter((e) => e.key !== "llama.block_count")), FileFormatError, /llama\.block_count is missing/);
  expectFailure(withMetadata((m) => m.filter((e) => e.key !== "general.architecture")), FileFormatError, /general\.architecture is missing/);
  expectFailure(
    withMetadata((m) => m.map((e) => (e.key === "llama.block_count" ? { key: e.key, value: { type: "string", value: "2" } } : e))),
    FileFormatError,
    /llama\.block_count has type string, expected an integer/,
  );
  expectFailure(
    withMetadata((m) => m.map((e) => (e.key === "llama.rope.dimension_count" ? { key: e.key, value: { type: "u32", value: 4 } } : e))),
    UnsupportedError,
    /dimension_count 4/,
  );
});

test("files: missing, a directory, empty, a .gguf without the magic, a cut llama2.c checkpoint", { skip: missingSharedReason }, async () => {
  await withTempDir(async (dir) => {
    const expect = async (path: string, pattern: RegExp) =>
      assert.rejects(loadModelFile(path), (e: unknown) => e instanceof FileFormatError && e.message.startsWith(`${path}: `) && pattern.test(e.message));
    await expect(join(dir, "absent.gguf"), /no such file/);
    await expect(dir, /is a directory/);
    writeFileSync(join(dir, "empty.bin"), new Uint8Array(0));
    await expect(join(dir, "empty.bin"), /is empty/);
    writeFileSync(join(dir, "fake.gguf"), readFileSync(stories260KBinPath));
    await expect(join(dir, "fake.gguf"), /not a GGUF file/);
    writeFileSync(join(dir, "cut.bin"), readFileSync(stories260KBinPath).subarray(0, 500000));
    await expect(join(dir, "cut.bin"), /is 500000 bytes but a llama2\.c checkpoint .* is exactly 1056540 bytes/);
    writeFileSync(join(dir, "cut.gguf"), readFileSync(stories260KGgufPath).subarray(0, 600000));
    await expect(join(dir, "cut.gguf"), /extends past the end of the file/);
  });
});
