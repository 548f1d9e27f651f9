import { test } from "node:test";
import assert from "node:assert/strict";
import { parseModelFile } from "../../src/format/modelFile.js";
import { encodeGguf, type GgufMetadataEntry, type GgufTensorData } from "../../src/format/gguf/writeGguf.js";
import { llamaModelMetadata } from "../../src/format/llamaGgufMetadata.js";
import { llamaTensorShapes } from "../../src/format/llamaTensors.js";
import { TENSOR_NAMES } from "../../src/format/tensor.js";
import type { ModelConfig } from "../../src/model/config.js";
import type { ArchitectureOptions } from "../../src/model/architectures/architecture.js";
import { ARCHITECTURES } from "../../src/model/architectures/registry.js";
import { fillRopeTable } from "../../src/model/state.js";
import { llama3RopeFactors } from "../../src/bench/compat/compatCases.js";
import { FileFormatError, UnsupportedError } from "../../src/util/errors.js";

// What each architecture's file resolves to, read back from GGUF files written with the <arch>.* keys llama.cpp uses.

const base = { dim: 64, hiddenDim: 96, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 16, vocabSize: 300, seqLen: 32, ropeTheta: 1e6, normEps: 1e-6 };
const options = (o: Partial<ArchitectureOptions>): ArchitectureOptions => ({
  name: "llama", ropeStyle: "interleaved", qkvBias: false, qkNorm: false, ropePositionScale: 1, ropeFreqFactors: undefined, ...o,
});

function fileOf(config: ModelConfig, change: (m: GgufMetadataEntry[], t: GgufTensorData[]) => void = () => {}): Uint8Array {
  const metadata = llamaModelMetadata(config, "tiny", "f32");
  const tensors: GgufTensorData[] = llamaTensorShapes(config, true).map(({ name, shape }) => {
    const values = name === TENSOR_NAMES.ropeFreqs ? config.arch.ropeFreqFactors! : new Float32Array(shape.reduce((a, b) => a * b));
    return { name, type: "f32", shape, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  });
  change(metadata, tensors);
  return encodeGguf(metadata, tensors);
}

test("qwen2: biases required and NeoX rope; qwen3: per-head q/k norm and its own head size", () => {
  const qwen2 = parseModelFile(fileOf({ ...base, arch: options({ name: "qwen2", ropeStyle: "neox", qkvBias: true }) }), "q2.gguf");
  assert.deepEqual(qwen2.config.arch, options({ name: "qwen2", ropeStyle: "neox", qkvBias: true }));
  const noBias = fileOf({ ...base, arch: options({ name: "qwen2", ropeStyle: "neox", qkvBias: true }) }, (_, t) => t.splice(t.findIndex((x) => x.name === TENSOR_NAMES.kBias(1)), 1));
  assert.throws(() => parseModelFile(noBias, "q2.gguf"), (e: unknown) => e instanceof FileFormatError && /missing tensor blk\.1\.attn_k\.bias/.test(e.message));

  // 4 heads of 32 on a width of 64: qwen3.attention.key_length says so, attn_q is [64, 128], attn_output [128, 64]
  const qwen3 = parseModelFile(fileOf({ ...base, headDim: 32, arch: options({ name: "qwen3", ropeStyle: "neox", qkNorm: true }) }), "q3.gguf");
  assert.equal(qwen3.config.headDim, 32);
  assert.equal(qwen3.config.arch.qkNorm, true);
  assert.deepEqual(qwen3.tensors.get(TENSOR_NAMES.wq(0))!.shape, [64, 128]);
  assert.deepEqual(qwen3.tensors.get(TENSOR_NAMES.qNorm(1))!.shape, [32]);
});

test("llama: q/k/v biases used when present, rope_freqs factors and linear scaling read", () => {
  const plain = parseModelFile(fileOf({ ...base, arch: options({}) }), "l.gguf");
  assert.equal(plain.config.arch.qkvBias, false);
  const biased = parseModelFile(fileOf({ ...base, arch: options({ qkvBias: true }) }), "l.gguf");
  assert.equal(biased.config.arch.qkvBias, true);
  const factors = llama3RopeFactors(base.headDim, 5e5);
  const scaled = parseModelFile(fileOf({ ...base, arch: options({ ropePositionScale: 0.25, ropeFreqFactors: factors }) }), "l.gguf");
  assert.equal(scaled.config.arch.ropePositionScale, 0.25);
  assert.deepEqual(scaled.config.arch.ropeFreqFactors, factors);
});

test("refused: other architectures (naming the supported list), YaRN, partial rotary, unequal key/value heads", () => {
  const refuse = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(() => parseModelFile(bytes, "x.gguf"), (e: unknown) => e instanceof UnsupportedError && pattern.test(e.message), String(pattern));
  const set = (key: string, value: GgufMetadataEntry["value"]) => (m: GgufMetadataEntry[]) => {
    const at = m.findIndex((e) => e.key === key);
    if (at >= 0) m[at] = { key, value };
    else m.push({ key, value });
  };
  refuse(fileOf({ ...base, arch: options({}) }, set("general.architecture", { type: "string", value: "gemma2" })),
    new RegExp(`architecture "gemma2" is not supported; supported: ${ARCHITECTURES.map((a) => a.name).join(", ")}`));
  refuse(fileOf({ ...base, arch: options({}) }, set("llama.rope.scaling.type", { type: "string", value: "yarn" })), /rope scaling "yarn"/);
  refuse(fileOf({ ...base, arch: options({}) }, set("llama.rope.dimension_count", { type: "u32", value: 8 })), /rotates part of a head/);
  refuse(fileOf({ ...base, arch: options({}) }, set("llama.attention.value_length", { type: "u32", value: 8 })), /value heads of 8/);
});

test("the rope table: angle (s·pos)·θ^(-2i/D) / f_i, with the position scale and rope_freqs factors", () => {
  const headDim = 8;
  const factors = Float32Array.of(1, 2, 4, 8);
  const table = new Float32Array(5 * headDim);
  fillRopeTable(table, 5, headDim, 100, { ropePositionScale: 0.5, ropeFreqFactors: factors });
  for (let pos = 0; pos < 5; pos++) {
    for (let i = 0; i < headDim / 2; i++) {
      const angle = (0.5 * pos * 100 ** (-2 * i / headDim)) / factors[i]!;
      assert.ok(Math.abs(table[pos * headDim + 2 * i]! - Math.cos(angle)) < 1e-7);
      assert.ok(Math.abs(table[pos * headDim + 2 * i + 1]! - Math.sin(angle)) < 1e-7);
    }
  }
});

test("llama3 rope factors: 1 for short wavelengths, 8 for long ones, smooth between (Llama 3.1's converter)", () => {
  const f = llama3RopeFactors(128, 500000);
  assert.equal(f[0], 1);
  assert.equal(f[63], 8);
  for (let i = 1; i < 64; i++) assert.ok(f[i]! >= f[i - 1]!, `non-decreasing at ${i}`);
  assert.ok(f.some((x) => x > 1 && x < 8), "a smooth band");
});
