import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GGML_TYPES } from "../../src/format/gguf/ggmlTypes.js";
import { loadModelFile } from "../../src/format/modelFile.js";
import { writeSyntheticLlamaGguf, type SyntheticLlamaShape } from "../../src/format/syntheticModel.js";
import { syntheticVocabulary } from "../../src/format/syntheticVocabulary.js";
import { TENSOR_NAMES, type TensorView } from "../../src/format/tensor.js";
import { tokenizerFromGgufVocabulary } from "../../src/tokenizer/loadTokenizer.js";
import { ConfigError } from "../../src/util/errors.js";
import { withTempDir } from "./sharedModelFiles.js";

const SHAPE: SyntheticLlamaShape = { dim: 64, hiddenDim: 96, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 400, seqLen: 32 };

function values(tensor: TensorView): Float32Array {
  const traits = GGML_TYPES[tensor.type];
  const out = new Float32Array((tensor.data.byteLength / traits.bytesPerBlock) * traits.blockSize);
  traits.dequantizeRow(tensor.data, out.length, out);
  return out;
}

test("a synthetic Q8_0 model loads with its shape, unit norms and uniform(-a, a) weights, a = 1/sqrt(cols)", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "synthetic.gguf");
    await writeSyntheticLlamaGguf(path, SHAPE, "q8_0", 7);
    const model = await loadModelFile(path);
    const { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, headDim } = model.config;
    assert.deepEqual({ dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen }, SHAPE);
    assert.equal(headDim, 16);
    assert.ok(model.tensors.has(TENSOR_NAMES.output));
    for (const tensor of model.tensors.values()) {
      const v = values(tensor);
      if (tensor.shape.length === 1) {
        assert.equal(tensor.type, "f32");
        assert.ok(v.every((x) => x === 1), tensor.name);
        continue;
      }
      assert.equal(tensor.type, "q8_0", tensor.name);
      const a = 1 / Math.sqrt(tensor.shape[0]!);
      const quantError = (a / 127) * 0.57; // Q8_0 bound with d <= a/127
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
      assert.ok(v.every((x) => Math.abs(x) <= a + quantError), `${tensor.name} stays within ±a`);
      // uniform(-a, a): mean 0, standard deviation a/sqrt(3); thousands of samples put both well inside these limits
      assert.ok(Math.abs(mean) < 0.1 * a, `${tensor.name} mean ${mean}`);
      assert.ok(Math.abs(std / (a / Math.sqrt(3)) - 1) < 0.1, `${tensor.name} std ${std}`);
    }
  });
});

test("the synthetic vocabulary is unique, byte-complete and loads into the tokenizer", async () => {
  const { pieces, scores } = syntheticVocabulary(32000);
  assert.equal(new Set(pieces).size, 32000);
  assert.equal(scores.length, 32000);
  await withTempDir(async (dir) => {
    const path = join(dir, "vocab.gguf");
    await writeSyntheticLlamaGguf(path, SHAPE, "f32", 1);
    const vocabulary = (await loadModelFile(path)).vocabulary!;
    assert.equal(vocabulary.tokens.length, SHAPE.vocabSize);
    assert.equal(vocabulary.tokens[3 + 0x41], "<0x41>");
    assert.equal(vocabulary.tokenTypes![3 + 0x41], 6);
    const tokenizer = tokenizerFromGgufVocabulary(vocabulary, path);
    const text = "a cab, ¿qué? 🦙";
    const ids = tokenizer.encode(text, { addBos: true });
    assert.equal(ids[0], 1);
    assert.equal(tokenizer.decode(ids), text); // llama2.c semantics: the dummy-prefix space after BOS is dropped
  });
});

test("the same seed gives the same file, another seed another; rows that are not whole blocks fall back to f16", async () => {
  await withTempDir(async (dir) => {
    const write = async (name: string, seed: number) => {
      await writeSyntheticLlamaGguf(join(dir, name), SHAPE, "q4_0", seed);
      return readFileSync(join(dir, name));
    };
    const first = await write("a.gguf", 3);
    assert.ok(first.equals(await write("b.gguf", 3)));
    assert.ok(!first.equals(await write("c.gguf", 4)));
    const wide: SyntheticLlamaShape = { ...SHAPE, hiddenDim: 100, vocabSize: 300 };
    await writeSyntheticLlamaGguf(join(dir, "wide.gguf"), wide, "q8_0", 5);
    const model = await loadModelFile(join(dir, "wide.gguf"));
    assert.equal(model.tensors.get(TENSOR_NAMES.ffnDown(0))!.type, "f16"); // rows of 100 are not whole Q8_0 blocks
  });
});

test("an impossible shape is a ConfigError before anything is written", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "bad.gguf");
    await assert.rejects(writeSyntheticLlamaGguf(path, { ...SHAPE, nHeads: 5 }, "f32", 1), ConfigError);
    await assert.rejects(writeSyntheticLlamaGguf(path, { ...SHAPE, nKvHeads: 3 }, "f32", 1), ConfigError);
    await assert.rejects(writeSyntheticLlamaGguf(path, { ...SHAPE, vocabSize: 100 }, "f32", 1), /vocabSize/);
    await assert.rejects(writeSyntheticLlamaGguf(path, { ...SHAPE, nLayers: 0 }, "f32", 1), /shape\.nLayers/);
    assert.equal(existsSync(path), false);
  });
});

test("a tensor larger than one generation chunk (2^20 values) is written whole, with no chunk repeated", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "big-vocab.gguf");
    await writeSyntheticLlamaGguf(path, { ...SHAPE, nLayers: 1, vocabSize: 20000 }, "f32", 9);
    const embedding = (await loadModelFile(path)).tensors.get(TENSOR_NAMES.tokenEmbedding)!;
    assert.deepEqual(embedding.shape, [64, 20000]);
    const v = values(embedding);
    const rowsPerChunk = (1 << 20) / 64;
    const row = (r: number) => v.subarray(r * 64, (r + 1) * 64);
    assert.notDeepEqual(row(0), row(rowsPerChunk));
    assert.ok(row(19999).some((x) => x !== 0));
    assert.ok(v.every((x) => Math.abs(x) < 1 / 8));
  });
});
