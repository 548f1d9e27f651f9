import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertGguf } from "../../src/format/convert.js";
import { parseGguf } from "../../src/format/gguf/parseGguf.js";
import { writeSyntheticLlamaGguf } from "../../src/format/syntheticModel.js";
import { UsageError } from "../../src/util/errors.js";

// GGUF -> GGUF conversion (format/convert.ts): metadata kept (file type updated), matrices re-encoded by the recipe
// with their round-trip error within the format's bound, quantized inputs refused before anything is written.

const SHAPE = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 300, seqLen: 64 };

test("an F32 GGUF converts to q4_k_m: same metadata and tensors, llama.cpp's mix, errors within half a step", async () => {
  const dir = mkdtempSync(join(tmpdir(), "qaq-convert-gguf-"));
  try {
    const input = join(dir, "in.gguf");
    await writeSyntheticLlamaGguf(input, SHAPE, "f32", 7);
    const output = join(dir, "out.gguf");
    const result = await convertGguf(input, output, "q4_k_m");
    const before = parseGguf(readFileSync(input), input);
    const after = parseGguf(readFileSync(output), output);
    assert.deepEqual([...after.metadata.keys()].sort(), [...before.metadata.keys()].sort());
    for (const [key, value] of before.metadata) if (key !== "general.file_type") assert.deepEqual(after.metadata.get(key), value, key);
    assert.deepEqual(after.metadata.get("general.file_type"), { type: "u32", value: 15 });
    const types = Object.fromEntries(after.tensors.map((t) => [t.name, t.type]));
    // 2 layers: eighth 0, last eighth from layer 1, every third from 0 + 2: layer 1 gets more bits
    assert.equal(types["output.weight"], "q6_k");
    assert.equal(types["blk.0.attn_v.weight"], "q4_k");
    assert.equal(types["blk.1.attn_v.weight"], "q6_k");
    assert.equal(types["blk.1.ffn_down.weight"], "q6_k");
    assert.equal(types["blk.0.attn_norm.weight"], "f32");
    assert.deepEqual(result.errors.map((e) => e.type).sort(), ["q4_k", "q6_k"]);
    for (const e of result.errors) assert.ok(e.worstOfBound <= 1 && e.relativeRms > 0 && e.relativeRms < 0.12, JSON.stringify(e));

    // a quantized input is refused, and nothing is written
    const again = join(dir, "again.gguf");
    await assert.rejects(convertGguf(output, again, "q4_k"), (e: unknown) => e instanceof UsageError && /is Q6_K; convert from a file whose matrices are F32/.test(e.message));
    assert.equal(existsSync(again), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
