import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Compute } from "../../src/kernels/Compute.js";
import { createCache } from "../../src/cache/createCache.js";
import { Engine } from "../../src/engine/Engine.js";
import { loadModelFile } from "../../src/format/modelFile.js";
import { writeSyntheticLlamaGguf } from "../../src/format/syntheticModel.js";
import { LlamaModel } from "../../src/model/llama.js";
import { createForwardState, fillRopeTable, freeForwardState } from "../../src/model/state.js";
import { freeWeights, loadWeights } from "../../src/model/weights.js";
import { BUNDLED_MODEL } from "../support/paths.js";

/**
 * The RoPE table and the attention scores scratch are sized by the positions in use, not by the context length a
 * file declares: a small file that declares millions of positions must not allocate gigabytes before its first
 * token (the fuzzer's allowance used to have to include 4 bytes x context x head size for it).
 */
const dir = mkdtempSync(join(tmpdir(), "qaq-positions-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a 1 MB GGUF declaring 2^22 positions (head size 128) loads and runs in tens of MB, not 2 GiB", { timeout: 60_000 }, async () => {
  const path = join(dir, "long-context.gguf");
  const shape = { dim: 128, hiddenDim: 128, nLayers: 1, nHeads: 1, nKvHeads: 1, vocabSize: 300, seqLen: 1 << 22 };
  await writeSyntheticLlamaGguf(path, shape, "f32", 7);
  assert.ok(statSync(path).size < 1 << 20, `file of ${statSync(path).size} bytes`);
  const engine = await Engine.load(path, undefined, 1);
  try {
    assert.equal(engine.config.seqLen, 1 << 22);
    const cache = engine.createCache({ kind: "fp32" }, 64);
    try {
      const logits = engine.model.forward(Int32Array.of(1, 5, 9), 0, cache, "last");
      assert.equal(logits.length, 300);
    } finally {
      cache.dispose();
    }
    // a table for the whole context would be 2^22 x 128 x 4 bytes = 2 GiB; the file, weights and scratch are ~2 MB
    const heapBytes = engine.compute.heap.memoryBytes;
    assert.ok(heapBytes < 128 << 20, `heap of ${heapBytes} bytes`);
  } finally {
    engine.dispose();
  }
});

test("the rope table filled in two steps equals the table filled at once", () => {
  const headDim = 16;
  const once = new Float32Array(40 * headDim);
  fillRopeTable(once, 40, headDim, 10000);
  const grown = new Float32Array(40 * headDim);
  fillRopeTable(grown, 12, headDim, 10000);
  fillRopeTable(grown, 40, headDim, 10000, undefined, 12);
  assert.deepEqual(grown, once);
});

test("positions beyond the first reservation: logits equal those of a state sized for the whole context", { timeout: 60_000 }, async () => {
  // stories260K: one state starts at 8 positions and grows (8 -> 20 for the prompt, -> 40 while decoding); the other
  // covers the whole context from the start. Every logit must be the same float.
  const tokens = Int32Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 500));
  const compute = await Compute.create(1);
  try {
    const file = await loadModelFile(BUNDLED_MODEL);
    const weights = loadWeights(compute, file);
    const run = (initialPositions: number): Float32Array[] => {
      const state = createForwardState(compute, file.config, initialPositions);
      const model = new LlamaModel(file.config, compute, weights, state);
      const cache = createCache(compute, { nLayers: file.config.nLayers, nKvHeads: file.config.nKvHeads, headDim: file.config.headDim, maxTokens: 64 }, { kind: "fp32" });
      try {
        const out = [model.forward(tokens.subarray(0, 20), 0, cache, "all").slice()];
        for (let pos = 20; pos < tokens.length; pos++) out.push(model.forward(tokens.subarray(pos, pos + 1), pos, cache, "last").slice());
        if (initialPositions === 8) assert.ok(state.positions >= tokens.length && state.positions < file.config.seqLen, `${state.positions}`);
        return out;
      } finally {
        cache.dispose();
        freeForwardState(compute, state);
      }
    };
    const grown = run(8);
    const whole = run(file.config.seqLen);
    assert.equal(grown.length, whole.length);
    grown.forEach((logits, i) => assert.deepEqual(logits, whole[i], `forward call ${i}`));
    freeWeights(compute, weights);
  } finally {
    compute.dispose();
  }
});
