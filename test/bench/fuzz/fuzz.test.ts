import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { convertLlama2cToGguf } from "../../../src/format/convert.js";
import { rawFromGguf, serializeRawGguf } from "../../../src/bench/fuzz/rawGguf.js";
import { runFuzz } from "../../../src/bench/fuzz/fuzzRunner.js";
import { withTempDir } from "../../format/sharedModelFiles.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER } from "../../support/paths.js";

/**
 * A short seeded fuzz run (the long one is `npm run fuzz -- --count 100000`, docs/RELIABILITY.md): mutated GGUF,
 * llama2.c and tok.bin files through inspect, load and a one-token forward, with no crash, hang (1 s of CPU),
 * untyped error or memory beyond the file's allowance.
 */
test("300 mutated files: every one refused with a typed error or run to a token", { timeout: 120_000 }, async () => {
  const summary = await runFuzz({ seed: 17, count: 300, jobs: 2, timeoutMs: 1000 });
  assert.deepEqual(summary.failures, []);
  assert.equal(summary.outcomes["ok"]! + summary.outcomes["typed"]!, 300);
  // the mutations reach every stage: some files still load and run, some are refused by the parser, some by the
  // forward pass's numerical check (non-finite weights), some by the tokenizer
  assert.ok(summary.outcomes["ok"]! > 0, JSON.stringify(summary.refusals));
  for (const stage of ["inspect file-format", "forward numeric", "tokenizer file-format"]) {
    assert.ok((summary.refusals[stage] ?? 0) > 0, `no "${stage}" refusal in ${JSON.stringify(summary.refusals)}`);
  }
});

test("a valid GGUF splits into raw parts and serializes back byte for byte", { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/s.gguf`;
    await convertLlama2cToGguf(BUNDLED_MODEL, BUNDLED_TOKENIZER, path, "q8_0");
    const bytes = new Uint8Array(readFileSync(path));
    assert.ok(Buffer.from(serializeRawGguf(rawFromGguf(bytes))).equals(bytes));
  });
});
