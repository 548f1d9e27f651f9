import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/Engine.js";
import { convertLlama2cToGguf } from "../../src/format/convert.js";
import { greedy } from "../support/greedy.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, GOLDEN_PATH, SHARED_GGUF, SKIP_SHARED } from "../support/paths.js";

/** The GGUF copies of stories260K (the shared one, converted by llama.cpp's tools, and our own) run like the .bin. */
const dir = mkdtempSync(join(tmpdir(), "qaq-gguf-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function goldenGreedy(): { ids: number[]; text: string; steps: number } {
  return (JSON.parse(readFileSync(GOLDEN_PATH, "utf8")) as { greedy_from_bos: { ids: number[]; text: string; steps: number } }).greedy_from_bos;
}

test("the shared f32 GGUF (own vocabulary) gives the golden ids and text", { skip: SKIP_SHARED }, async () => {
  const g = goldenGreedy();
  const engine = await Engine.load(SHARED_GGUF, undefined, 1);
  try {
    assert.deepEqual(Array.from(engine.tokenizer.encode("Once upon a time", { addBos: true })), [1, 403, 407, 261, 378]);
    const ids = greedy(engine, [1], g.steps);
    assert.deepEqual(ids, g.ids);
    assert.equal(engine.tokenizer.decode(ids), g.text);
  } finally {
    engine.dispose();
  }
});

test("our own f32 conversion gives the golden ids", { skip: SKIP_SHARED }, async () => {
  const out = join(dir, "s.f32.gguf");
  await convertLlama2cToGguf(BUNDLED_MODEL, BUNDLED_TOKENIZER, out, "f32");
  const engine = await Engine.load(out, undefined, 2);
  try {
    assert.deepEqual(greedy(engine, [1], goldenGreedy().steps), goldenGreedy().ids);
  } finally {
    engine.dispose();
  }
});

for (const type of ["f16", "q8_0", "q4_0"] as const) {
  test(`a ${type} conversion runs with weights kept in ${type} and stays close to f32`, { skip: SKIP_SHARED }, async () => {
    const out = join(dir, `s.${type}.gguf`);
    await convertLlama2cToGguf(BUNDLED_MODEL, BUNDLED_TOKENIZER, out, type);
    const engine = await Engine.load(out, undefined, 2);
    try {
      assert.equal(engine.weightsForAccounting.layers[0]!.wq.type, type);
      const g = goldenGreedy();
      const ids = greedy(engine, [1], 40);
      // the first tokens of a story are very likely under any reasonable weight precision
      const same = ids.filter((id, i) => id === g.ids[i]).length;
      const needed = type === "q4_0" ? 5 : type === "q8_0" ? 15 : 35;
      assert.ok(same >= needed, `${type}: ${same} of 41 ids agree with f32 greedy`);
    } finally {
      engine.dispose();
    }
  });
}
