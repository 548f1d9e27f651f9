import { test } from "node:test";
import assert from "node:assert/strict";
import { buildTable1 } from "../../src/eval/report/table1.js";
import { paretoFront } from "../../src/eval/report/figures.js";
import { methodOf, figure2aPoint } from "../../src/eval/report/methods.js";
import { QUALITY_VIEWS } from "../../src/eval/report/qualityViews.js";
import { syntheticLine } from "./syntheticLines.js";

const ppl = QUALITY_VIEWS.find((v) => v.id === "ppl")!;
const acc = QUALITY_VIEWS.find((v) => v.id === "acc")!;
const agreement = QUALITY_VIEWS.find((v) => v.id === "agreement")!;
const pplRun = (spec: string, ratio: number, value: number, protocol: "prompt" | "stream" = "prompt") =>
  syntheticLine({ task: "tinystories", kind: "perplexity", spec, protocol, ratio, paperRatio: 2 * ratio, metrics: { ppl: value }, fp32: { ppl: 4 } });

test("Table 1 keeps, per method and task, the largest measured ratio whose loss stays under 1%", () => {
  // fp32 ppl 4: losses are 0.25%, 0.75%, 2.5% and 0.5%; bits=3 compresses most but loses 2.5%, so bits=4 wins
  const lines = [
    pplRun("uniform:bits=8", 1.5, 4.01),
    pplRun("uniform:bits=4", 3, 4.03),
    pplRun("uniform:bits=3", 4, 4.1),
    pplRun("kivi:bits=2", 2, 4.02),
    pplRun("uniform:bits=2", 8, 3.0, "stream"),
  ];
  const table = buildTable1(lines, ppl, "prompt", 0.01);
  assert.deepEqual(table.methods, ["uniform", "KIVI"]);
  assert.deepEqual(table.tasks, ["tinystories"]);
  const uniform = table.cells.get("uniform")!.get("tinystories")!;
  assert.equal(uniform.spec, "uniform:bits=4");
  assert.equal(uniform.ratio, 3);
  assert.equal(uniform.paperRatio, 6);
  assert.ok(Math.abs(uniform.loss - 0.0075) < 1e-12);
  assert.equal(table.cells.get("KIVI")!.get("tinystories")!.setting, "bits=2");
  // the stream line belongs to the other protocol's table only
  assert.equal(buildTable1(lines, ppl, "stream", 0.01).cells.get("uniform")!.get("tinystories")!.spec, "uniform:bits=2");
});

test("a method that never stays within the threshold gets an explicit empty cell", () => {
  const table = buildTable1([pplRun("blockq:q4_0", 3.5, 5)], ppl, "prompt", 0.01);
  assert.equal(table.cells.get("blockq")!.get("tinystories"), null);
});

test("accuracy loss is in absolute points (the paper's < 1% drop), agreement loss is 1 − agreement", () => {
  const choice = (spec: string, ratio: number, a: number, agree: number) =>
    syntheticLine({ task: "piqa", kind: "choice", spec, ratio, metrics: { acc: a, agreement: agree }, fp32: { acc: 0.6 } });
  // acc drops: 0.005 (ok), 0.02 (too much), -0.03 (a gain, ok)
  const lines = [choice("uniform:bits=8", 1.5, 0.595, 1), choice("uniform:bits=4", 3, 0.58, 0.995), choice("uniform:bits=2", 6, 0.63, 0.9)];
  assert.equal(buildTable1(lines, acc, "prompt", 0.01).cells.get("uniform")!.get("piqa")!.spec, "uniform:bits=2");
  assert.equal(buildTable1(lines, agreement, "prompt", 0.01).cells.get("uniform")!.get("piqa")!.spec, "uniform:bits=4");
});

test("methods group qualitative options and leave the swept setting apart", () => {
  assert.deepEqual(methodOf("uniform:bits=4,outliers=0.01"), { method: "uniform +1% outliers", setting: "bits=4" });
  assert.deepEqual(methodOf("uniform:k=2,v=16"), { method: "uniform keys-only", setting: "k=2" });
  assert.deepEqual(methodOf("uniform:k=16,v=3"), { method: "uniform values-only", setting: "v=3" });
  assert.deepEqual(methodOf("qaq:kTol=0.032,vTol=0.8,window=1"), { method: "QAQ (paper, window 1, 1% outliers, group auto)", setting: "kTol=0.032,vTol=0.8" });
  assert.equal(methodOf("qaq:group=head,ratio=4,mode=stream").method, "QAQ (paper, window 5, 1% outliers, per head, budget)");
  // backing: a file is named; none only where streaming chose it (prompt mode has no other)
  assert.equal(methodOf("qaq:group=layer,backing=file").method, "QAQ (paper, window 5, 1% outliers, per layer, backing file)");
  assert.equal(methodOf("qaq:group=layer,backing=none").method, "QAQ (paper, window 5, 1% outliers, per layer, backing none)");
  assert.equal(methodOf("qaq:group=layer,mode=prompt").method, "QAQ (paper, window 5, 1% outliers, per layer)");
  assert.deepEqual(methodOf("h2o:budget=64"), { method: "H2O", setting: "budget=64" });
  // rotation and per-channel keys are methods of their own, not points on the plain method's front
  assert.deepEqual(methodOf("uniform:bits=3,rotate=hadamard"), { method: "uniform rotated", setting: "bits=3" });
  assert.deepEqual(methodOf("kivi:bits=2,rotate=hadamard"), { method: "KIVI rotated", setting: "bits=2" });
  assert.deepEqual(methodOf("qaq:rotate=hadamard,keys=channel"), {
    method: "QAQ (paper, window 5, 0% outliers, group auto, rotated, keys per channel)",
    setting: "kTol=0.002,vTol=0.05",
  });
  assert.deepEqual(figure2aPoint("uniform:k=3,v=16"), { part: "keys", bits: 3 });
  assert.equal(figure2aPoint("uniform:bits=3"), undefined);
});

test("the Pareto front keeps the runs no other run beats on both compression and quality", () => {
  const points = [
    { x: 1, y: 4.0 },
    { x: 2, y: 4.1 },
    { x: 2, y: 4.5 }, // same compression as (2, 4.1) but worse
    { x: 3, y: 4.05 }, // beats (2, 4.1) on both
    { x: 4, y: 9 },
    { x: 0.5, y: 4.2 }, // dominated by (1, 4.0)
    { x: 5, y: Number.NaN },
  ];
  assert.deepEqual(paretoFront(points, "lower"), [{ x: 1, y: 4.0 }, { x: 3, y: 4.05 }, { x: 4, y: 9 }]);
  assert.deepEqual(paretoFront([{ x: 1, y: 0.9 }, { x: 2, y: 0.5 }, { x: 3, y: 0.7 }], "higher"), [{ x: 1, y: 0.9 }, { x: 3, y: 0.7 }]);
});
