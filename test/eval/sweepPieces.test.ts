import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseGrid, readGrid } from "../../src/eval/sweep/grid.js";
import { planJobs, parseShard, shardJobs } from "../../src/eval/sweep/sweepPlan.js";
import { finishedKeys, readResultsFile } from "../../src/eval/sweep/resultsFile.js";
import { formatProgress, formatDuration } from "../../src/eval/sweep/ProgressBar.js";
import { configForProtocol, pinnedProtocol } from "../../src/eval/protocol/evalProtocol.js";
import { selectItems } from "../../src/eval/prepareTask.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { FileFormatError, UsageError } from "../../src/util/errors.js";
import { PROJECT_ROOT } from "../support/paths.js";

const dir = mkdtempSync(join(tmpdir(), "qaq-sweep-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a grid file: comments, blank lines, compact forms, duplicates dropped, bad lines named", () => {
  const grid = parseGrid("g.txt", "# baselines\nfp32\n\nuniform:k=4,v=4   # same as bits=4\nuniform:bits=4\nqaq:mode=prompt,kTol=0.01\n");
  assert.deepEqual(grid.map((g) => g.spec), ["fp32", "uniform:bits=4", "qaq:kTol=0.01,mode=prompt"]);
  assert.equal(grid[2]!.pinned, "prompt");
  assert.deepEqual(parseGrid("g.json", '["fp16", "kivi:bits=2"]').map((g) => g.spec), ["fp16", "kivi:bits=2"]);
  assert.throws(() => parseGrid("g.txt", "fp32\nuniform:bits=99\n"), (e: unknown) => e instanceof FileFormatError && /line 2/.test(e.message));
});

test("the shipped default grid holds the protocol's method list and parses", () => {
  const grid = readGrid(join(PROJECT_ROOT, "docs", "grids", "default.txt"));
  const kinds = new Set(grid.map((g) => parseKvSpec(g.spec).kind));
  for (const kind of ["fp32", "fp16", "uniform", "kivi", "blockq", "h2o", "streaming", "qaq"]) assert.ok(kinds.has(kind as never), kind);
  for (const b of [2, 3, 4, 5, 6, 7, 8]) {
    assert.ok(grid.some((g) => g.spec === `uniform:k=${b},v=16`), `keys-only ${b}`);
    assert.ok(grid.some((g) => g.spec === `uniform:k=16,v=${b}`), `values-only ${b}`);
  }
});

test("jobs: every spec x task x protocol, pinned specs under their protocol only; shards split the full list", () => {
  const tasks = [{ task: "piqa", dataPath: "d", limit: 3, seed: 0, scoring: "lm-eval" as const, ctx: null }];
  const jobs = planJobs("m.bin", tasks, parseGrid("g", "fp32\nqaq:mode=prompt\n"), ["prompt", "stream"]);
  assert.deepEqual(jobs.map((j) => `${j.spec}/${j.protocol}`), ["fp32/prompt", "fp32/stream", "qaq:mode=prompt/prompt"]);
  assert.equal(new Set(jobs.map((j) => j.key)).size, 3);
  const first = shardJobs(jobs, parseShard("1/2"));
  const second = shardJobs(jobs, parseShard("2/2"));
  assert.deepEqual([...first, ...second].map((j) => j.key).sort(), jobs.map((j) => j.key).sort());
  assert.throws(() => parseShard("3/2"), UsageError);
});

test("resume reads finished keys and cuts a torn last line off the file", () => {
  const path = join(dir, "r.jsonl");
  writeFileSync(path, `${JSON.stringify({ key: "a" })}\n${JSON.stringify({ key: "b" })}\n{"key": "c", "metr`);
  assert.deepEqual([...finishedKeys(path)], ["a", "b"]);
  assert.ok(readFileSync(path, "utf8").endsWith('{"key":"b"}\n'));
  assert.equal(readResultsFile(path).tornBytes, 0);
  writeFileSync(path, `${JSON.stringify({ key: "a" })}\nnot json\n${JSON.stringify({ key: "b" })}\n`);
  assert.throws(() => finishedKeys(path), /line 2/);
});

test("the progress line shows the done share and an ETA from the weights done so far", () => {
  // a quarter of the weight done in 60 s: 180 s remain
  const line = formatProgress({ doneJobs: 1, totalJobs: 4, doneWeight: 2, totalWeight: 8, elapsedSeconds: 60, label: "piqa" });
  assert.ok(line.includes(" 25% 1/4 jobs"), line);
  assert.ok(line.includes("ETA 3:00"), line);
  assert.equal(formatDuration(3725), "1:02:05");
});

test("the protocol sets QAQ's mode; a spec that names mode= pins its protocol", () => {
  const qaq = parseKvSpec("qaq:kTol=0.01");
  const prompt = configForProtocol(qaq, "prompt");
  const stream = configForProtocol(parseKvSpec("qaq:mode=prompt"), "stream");
  assert.ok(prompt.kind === "qaq" && prompt.mode === "prompt" && prompt.backing === "none");
  assert.ok(stream.kind === "qaq" && stream.mode === "stream" && stream.backing === "memory");
  assert.deepEqual(configForProtocol(parseKvSpec("uniform:bits=4"), "prompt"), parseKvSpec("uniform:bits=4"));
  assert.equal(pinnedProtocol("qaq:mode=stream"), "stream");
  assert.equal(pinnedProtocol("qaq:kTol=1,mode=prompt,window=1"), "prompt");
  assert.equal(pinnedProtocol("qaq:kTol=1"), undefined);
  assert.equal(pinnedProtocol("uniform:bits=4"), undefined);
});

test("seed 0 takes the first items; another seed a reproducible subset of distinct items", () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  assert.deepEqual(selectItems(items, 3, 0), [0, 1, 2]);
  const a = selectItems(items, 10, 7);
  assert.deepEqual(selectItems(items, 10, 7), a);
  assert.equal(new Set(a).size, 10);
  assert.notDeepEqual(a, selectItems(items, 10, 0));
  assert.equal(selectItems(items, null, 0).length, 50);
});

test("a unit progress bar shows done/total, the rate and the ETA", () => {
  const text = formatProgress({ doneJobs: 0, totalJobs: 1, doneWeight: 2500, totalWeight: 10000, elapsedSeconds: 5, label: "scored", unit: "tokens" });
  // 2500 of 10000 in 5 s: 500 tokens/s, 7500 left -> 15 s
  assert.equal(text, "[######..................]  25% 2500/10.0k tokens, 500 tokens/s, 0:05 elapsed, ETA 0:15  scored");
});
