import { test } from "node:test";
import assert from "node:assert/strict";
import { budgetComparisonMarkdown, paretoTableMarkdown } from "../../src/eval/report/measuredFront.js";
import { syntheticLine } from "./syntheticLines.js";

const fp32 = { ppl: 10 };
const run = (spec: string, ratio: number, ppl: number, kl: number) =>
  syntheticLine({ task: "wiki", kind: "perplexity", spec, protocol: "stream", ratio, metrics: { ppl, kl, top1: 0.9 }, fp32 });

const LINES = [
  run("uniform:bits=4", 3, 10.1, 0.01),
  run("uniform:bits=3", 4, 10.4, 0.04),
  run("uniform:bits=2", 6, 11.2, 0.16),
  run("uniform:bits=8", 1.8, 10.2, 0.001), // dominated on perplexity by bits=4
  run("qaq:ratio=5,group=layer,mode=stream", 5, 10.5, 0.02),
  run("qaq:ratio=2,group=layer,mode=stream", 2, 10.15, 0.002),
  run("qaq:ratio=7,group=layer,mode=stream", 7, 11, 0.1),
];

/** The cells of the table row whose first cell is `first`. */
function row(table: string, first: string): string[] {
  const line = table.split("\n").find((l) => l.startsWith(`| ${first} |`));
  assert.ok(line, `no row ${first} in\n${table}`);
  return line.split("|").slice(1, -1).map((c) => c.trim());
}

test("budget comparison: uniform's perplexity front read at QAQ's bytes, linear in log compression", () => {
  const table = budgetComparisonMarkdown(LINES, "wiki")!;
  // ratio 5 lies between bits=3 (4x, 10.4) and bits=2 (6x, 11.2): t = ln(5/4)/ln(6/4) = 0.5503, 10.4 + 0.8·t = 10.840
  const at5 = row(table, "ratio=5");
  const t = Math.log(5 / 4) / Math.log(6 / 4);
  assert.equal(at5[7], String(Number((10.4 + 0.8 * t).toPrecision(5))));
  assert.match(at5[8]!, /^QAQ better by 3\.1\d%$/);
  // KL front: bits=3 (0.04) … bits=2 (0.16) at t: 0.04 + 0.12·t = 0.1060, QAQ's 0.02 is 5.3x lower
  assert.match(at5[10]!, /^QAQ 5\.30x lower$/);
  // below uniform's perplexity front (which starts at bits=4, 3x): that point, with fewer bytes, stands in
  const at2 = row(table, "ratio=2");
  assert.match(at2[6]!, /with fewer bytes/);
  assert.match(at2[8]!, /^uniform better by 0\.50%$/);
  // beyond uniform's largest compression: no extrapolation
  assert.equal(row(table, "ratio=7")[6], "beyond uniform's front");
});

test("the Pareto table keeps the runs no other run beats, by perplexity or by KL", () => {
  const byPpl = paretoTableMarkdown(LINES, "wiki", "stream", "ppl")!;
  assert.ok(!byPpl.includes("bits=8"), "bits=8 is dominated by bits=4 on perplexity");
  assert.ok(byPpl.includes("| uniform | bits=4 |"));
  const byKl = paretoTableMarkdown(LINES, "wiki", "stream", "kl")!;
  assert.ok(byKl.includes("| uniform | bits=8 |"), "on KL bits=8 is on the front");
  assert.ok(!byKl.includes("bits=3 |"), "bits=3 (4x, KL 0.04) is beaten by QAQ ratio=5 (5x, KL 0.02)");
  assert.equal(paretoTableMarkdown(LINES, "other", "stream", "ppl"), undefined);
});
