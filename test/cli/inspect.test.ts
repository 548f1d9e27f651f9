import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { COMPAT_CASES } from "../../src/bench/compat/compatCases.js";
import { compatConfig } from "../../src/bench/compat/compatModel.js";
import { encodeGguf, type GgufMetadataEntry, type GgufTensorData } from "../../src/format/gguf/writeGguf.js";
import { llamaModelMetadata, llamaVocabularyMetadata } from "../../src/format/llamaGgufMetadata.js";
import { llamaTensorShapes } from "../../src/format/llamaTensors.js";
import { syntheticVocabulary } from "../../src/format/syntheticVocabulary.js";
import type { ModelConfig } from "../../src/model/config.js";

/** `qaq inspect` shows any GGUF's metadata and tensors, and says whether it runs here and why not. */
const dir = mkdtempSync(join(tmpdir(), "qaq-inspect-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface InspectJson {
  format: string;
  config?: { headDim: number; arch: { name: string; ropeStyle: string; qkNorm: boolean } };
  metadata: Record<string, string>;
  tensors: { name: string; type: string; shape: number[]; bytes?: number }[];
  verdict: { runs: boolean; reason?: string };
}

async function inspect(path: string): Promise<InspectJson> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(["inspect", path, "--json"], io);
  assert.equal(code, 0, err);
  return JSON.parse(out) as InspectJson;
}

/** A model file of `config` with zero weights and a SentencePiece vocabulary; `change` edits the parts. */
function modelFile(name: string, config: ModelConfig, change: (metadata: GgufMetadataEntry[]) => void = () => {}): string {
  const v = syntheticVocabulary(config.vocabSize);
  const metadata = [...llamaModelMetadata(config, name, "f32"), ...llamaVocabularyMetadata(v.pieces, v.scores)];
  const tensors: GgufTensorData[] = llamaTensorShapes(config, true).map(({ name: n, shape }) => ({
    name: n, type: "f32", shape, data: new Uint8Array(shape.reduce((a, b) => a * b) * 4),
  }));
  change(metadata);
  const path = join(dir, `${name}.gguf`);
  writeFileSync(path, encodeGguf(metadata, tensors));
  return path;
}

const qwen3 = compatConfig(COMPAT_CASES.find((c) => c.arch.name === "qwen3" && c.headDim === 128)!);

test("a supported qwen3 file: its config with the architecture's options, metadata with arrays summarized", async () => {
  const report = await inspect(modelFile("qwen3", qwen3));
  assert.equal(report.format, "gguf v3");
  assert.deepEqual(report.verdict, { runs: true });
  assert.equal(report.config?.headDim, 128);
  assert.equal(report.config?.arch.ropeStyle, "neox");
  assert.equal(report.config?.arch.qkNorm, true);
  assert.equal(report.metadata["qwen3.attention.key_length"], "128 (u32)");
  assert.match(report.metadata["tokenizer.ggml.tokens"]!, /^\["<unk>", "<s>", "<\/s>", "<0x00>", .*, \.\.\.\] \(600 x string\)$/);
  assert.ok(report.tensors.some((t) => t.name === "blk.1.attn_k_norm.weight" && t.type === "F32" && t.shape[0] === 128));
});

test("another architecture and a tensor type no one here reads: shown, and the reason it cannot run", async () => {
  const path = modelFile("mamba", { ...qwen3, arch: { ...qwen3.arch, name: "mamba" as never } });
  const report = await inspect(path);
  assert.equal(report.verdict.runs, false);
  assert.equal(report.verdict.reason, 'model architecture "mamba" is not supported; supported: llama, qwen2, qwen3');
  assert.equal(report.metadata["general.architecture"], "mamba (string)");
  assert.ok(report.tensors.length > 10);

  // a tensor retyped to IQ2_XXS (ggml type 16) in the written file: its info record is name, n_dims u32, dims u64[2],
  // type u32 (only the header is read before the verdict, so its data size does not matter)
  const iq = modelFile("iq2", qwen3);
  const bytes = readFileSync(iq);
  const name = Buffer.from("blk.0.ffn_up.weight");
  bytes.writeUInt32LE(16, bytes.indexOf(name) + name.length + 4 + 2 * 8);
  writeFileSync(iq, bytes);
  const iqReport = await inspect(iq);
  const row = iqReport.tensors.find((t) => t.name === "blk.0.ffn_up.weight")!;
  assert.equal(row.type, "IQ2_XXS");
  assert.equal(row.bytes, undefined);
  assert.equal(iqReport.verdict.runs, false);
  assert.match(iqReport.verdict.reason!, /tensor types not supported: IQ2_XXS \(16\) x 1/);
});

test("a header larger than the first read (a 3 MB metadata array) is read in growing prefixes", async () => {
  const path = modelFile("big-header", qwen3, (metadata) => {
    metadata.push({ key: "test.big", value: { type: "array", elementType: "string", values: Array.from({ length: 150_000 }, (_, i) => `piece-${i}-xxxxxx`) } });
  });
  const report = await inspect(path);
  assert.equal(report.metadata["test.big"]!.endsWith("(150000 x string)"), true);
  assert.deepEqual(report.verdict, { runs: true });
});

test("a damaged file is still a clean error", async () => {
  const path = join(dir, "cut.gguf");
  writeFileSync(path, Buffer.from("GGUF\x03\x00\x00\x00"));
  let err = "";
  const code = await runCli(["inspect", path], { out: () => {}, err: (t) => void (err += t) });
  assert.equal(code, 1);
  assert.match(err, /cut\.gguf/);
});
