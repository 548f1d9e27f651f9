import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHellaswag, preprocessHellaswag } from "../../src/eval/tasks/hellaswag.js";
import { loadMathqa, parseMathqaOptions } from "../../src/eval/tasks/mathqa.js";
import { loadPiqa } from "../../src/eval/tasks/piqa.js";
import { defaultDataPath } from "../../src/eval/tasks/dataFiles.js";
import { TASKS, findTask } from "../../src/eval/tasks/taskTable.js";
import { FileFormatError, UsageError } from "../../src/util/errors.js";
import { SHARED, SKIP_SHARED } from "../support/paths.js";

const dir = mkdtempSync(join(tmpdir(), "qaq-tasks-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

test("HellaSwag upstream records: ctx_a + capitalised ctx_b, lm-eval's clean-up, gold label", () => {
  const record = {
    activity_label: "Roof shingle removal",
    ctx_a: "A man is sitting on a roof.",
    ctx_b: "he IS",
    ctx: "ignored when ctx_a and ctx_b are present",
    endings: ["is using wrap [header] to wrap a pair of skis.", "is ripping  level tiles off.", "x", "y"],
    label: "3",
  };
  const [item] = loadHellaswag(file("hs.jsonl", `${JSON.stringify(record)}\n`));
  // Python's "he IS".capitalize() is "He is"; [header] is removed and the double space collapsed
  assert.equal(item!.context, "Roof shingle removal: A man is sitting on a roof. He is");
  assert.deepEqual(item!.choiceTexts, ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "x", "y"]);
  assert.deepEqual(item!.continuations.slice(0, 2), [" is using wrap to wrap a pair of skis.", " is ripping level tiles off."]);
  assert.equal(item!.gold, 3);
  assert.equal(preprocessHellaswag(" How to cook [title] Boil water. "), "How to cook. Boil water.");
});

test("HellaSwag shipped records (ctx only) are used as written", () => {
  const record = { activity_label: "Clean and jerk", ctx: "A lady walks to a barbell. the lady", label: 0, endings: ["a", "b", "c", "d"] };
  const [item] = loadHellaswag(file("hs2.jsonl", JSON.stringify(record)));
  assert.equal(item!.context, "Clean and jerk: A lady walks to a barbell. the lady");
});

test("PIQA reads answers from the labels file beside the data, or from a label field", () => {
  const data = file("valid.jsonl", `${JSON.stringify({ goal: "g1", sol1: "a", sol2: "b" })}\n${JSON.stringify({ goal: "g2", sol1: "c", sol2: "d" })}\n`);
  file("valid-labels.lst", "1\n0\n");
  const items = loadPiqa(data);
  assert.equal(items[0]!.context, "Question: g1\nAnswer:");
  assert.deepEqual(items[0]!.continuations, [" a", " b"]);
  assert.deepEqual(items.map((i) => i.gold), [1, 0]);
  const labelled = loadPiqa(file("hf.jsonl", JSON.stringify({ goal: "g", sol1: "a", sol2: "b", label: 1 })));
  assert.equal(labelled[0]!.gold, 1);
});

test("PIQA without answers names the labels file it looked for", () => {
  const data = file("nolabels.jsonl", JSON.stringify({ goal: "g", sol1: "a", sol2: "b" }));
  assert.throws(() => loadPiqa(data), (e: unknown) => e instanceof FileFormatError && e.file.endsWith("nolabels-labels.lst"));
  file("short.jsonl", `${JSON.stringify({ goal: "g", sol1: "a", sol2: "b" })}\n`);
  file("short-labels.lst", "0\n1\n");
  assert.throws(() => loadPiqa(join(dir, "short.jsonl")), /2 labels for 1 questions/);
});

test("MathQA options parse as lm-eval parses them, from a JSON array or JSON lines", () => {
  assert.deepEqual(parseMathqaOptions("a ) 38 , b ) 27.675 , c ) 30 , d ) data inadequate , e ) none of these"), ["38", "27.675", "30", "data inadequate", "none of these"]);
  assert.deepEqual(parseMathqaOptions("a ) 0 , b ) - 2 , c ) - 25 , d ) - 49 , e ) - 51"), ["0", "- 2", "- 25", "- 49", "- 51"]);
  // lm-eval's lazy match stops an option at its first " , ": "1 , 2" keeps only "1"
  assert.deepEqual(parseMathqaOptions("a ) 1 , 2 , b ) 3 , c ) 4 , d ) 5 , e ) 6"), ["1", "3", "4", "5", "6"]);
  const record = { Problem: "what is 2 + 2 ?", options: "a ) 1 , b ) 2 , c ) 3 , d ) 4 , e ) 5", correct: "d" };
  for (const path of [file("m.json", JSON.stringify([record])), file("m.jsonl", JSON.stringify(record))]) {
    const [item] = loadMathqa(path);
    assert.equal(item!.context, "Question: what is 2 + 2 ?\nAnswer:");
    assert.deepEqual(item!.continuations, [" 1", " 2", " 3", " 4", " 5"]);
    assert.equal(item!.gold, 3);
  }
});

test("a bad record names the file, the record and the field", () => {
  const path = file("bad.jsonl", `${JSON.stringify({ activity_label: "x", ctx: "y", endings: ["a", "b", "c"], label: 0 })}\n`);
  assert.throws(() => loadHellaswag(path), (e: unknown) => e instanceof FileFormatError && /line 1/.test(e.message) && /endings/.test(e.message));
  const gold = file("gold.json", JSON.stringify([{ Problem: "p", options: "a ) 1 , b ) 2 , c ) 3 , d ) 4 , e ) 5", correct: "f" }]));
  assert.throws(() => loadMathqa(gold), /record 1: field "correct"/);
});

test("missing data says where to get it and which format the task reads", () => {
  for (const task of [TASKS["hellaswag"]!, TASKS["piqa"]!, TASKS["mathqa"]!]) {
    if (task.kind !== "choice") continue;
    const missing = join(dir, `absent-${task.name}.json`);
    assert.throws(() => task.load(missing), (e: unknown) => e instanceof FileFormatError && e.message.includes("Get it from") && e.message.includes("Format:"));
  }
  assert.throws(() => findTask("nope"), UsageError);
});

test("the shipped subsets load completely", { skip: SKIP_SHARED }, () => {
  const dataDir = join(SHARED, "data");
  for (const [name, count] of [["hellaswag", 4], ["piqa", 2], ["mathqa", 5]] as const) {
    const task = TASKS[name]!;
    assert.equal(task.kind, "choice");
    if (task.kind !== "choice") continue;
    const items = task.load(defaultDataPath(task, dataDir)!);
    assert.equal(items.length, 1000, name);
    assert.ok(items.every((i) => i.continuations.length === count && i.gold >= 0 && i.gold < count), name);
  }
});
