import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { PROJECT_ROOT, SKIP_SHARED } from "../support/paths.js";

/** `qaq eval`, `qaq sweep` and `qaq report` end to end on the bundled stories260K model with a few items. */
const dir = mkdtempSync(join(tmpdir(), "qaq-evalcli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const CLI = join(PROJECT_ROOT, "dist", "src", "cli", "main.js");

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { key: string });

test("qaq eval --json prints one result line", { skip: SKIP_SHARED, timeout: 180_000 }, async () => {
  const r = await run("eval", "--task", "piqa", "--limit", "3", "--kv", "uniform:bits=4", "--protocol", "stream", "--threads", "1", "--json");
  assert.equal(r.code, 0, r.err);
  const line = JSON.parse(r.out) as { items: number; protocol: string; spec: string; metrics: Record<string, number>; cache: { ratioVsFp16: number } };
  assert.equal(line.items, 3);
  assert.equal(line.protocol, "stream");
  assert.equal(line.spec, "uniform:bits=4");
  for (const m of ["acc", "acc_norm", "acc_stderr", "agreement", "gold_loglik_delta", "kl", "top1"]) assert.ok(m in line.metrics, m);
  assert.ok(line.cache.ratioVsFp16 > 0);
  const text = await run("eval", "--task", "piqa", "--limit", "2", "--threads", "1");
  assert.equal(text.code, 0, text.err);
  assert.ok(text.out.includes("protocol prompt") && text.out.includes("acc_norm"), text.out);
});

test("missing task data names where to get it and its format", { timeout: 60_000 }, async () => {
  const missing = join(dir, "hellaswag_val.jsonl");
  const r = await run("eval", "--task", "hellaswag", "--data", missing, "--limit", "1", "--threads", "1");
  assert.equal(r.code, 1);
  assert.ok(r.err.includes(missing) && r.err.includes("Get it from") && r.err.includes("Format:"), r.err);
  assert.ok(!/\n\s+at /.test(r.err), r.err);
  const sweep = await run("sweep", "--tasks", "piqa", "--data", `piqa=${join(dir, "nope.jsonl")}`, "--out", join(dir, "x.jsonl"));
  assert.equal(sweep.code, 1);
  assert.ok(sweep.err.includes("Get it from"), sweep.err);
});

test("a tiny sweep on two cores, then a report", { skip: SKIP_SHARED, timeout: 180_000 }, async () => {
  const grid = join(dir, "grid.txt");
  writeFileSync(grid, "fp32\nuniform:k=2,v=16\nuniform:k=16,v=2\n");
  const out = join(dir, "tiny.jsonl");
  const r = await run("sweep", "--tasks", "piqa,tinystories", "--grid", grid, "--limit", "piqa=3,tinystories=256", "--out", out, "--jobs", "2");
  assert.equal(r.code, 0, r.err);
  const results = lines(out);
  assert.equal(results.length, 3 * 2 * 2);
  assert.equal(new Set(results.map((l) => l.key)).size, 12);
  assert.equal(readdirSync(`${out}.ref`).filter((f) => f.endsWith(".json")).length, 2);
  assert.equal(lines(`${out}.runs.jsonl`).length, 1);
  const again = await run("sweep", "--tasks", "piqa,tinystories", "--grid", grid, "--limit", "piqa=3,tinystories=256", "--out", out);
  assert.equal(again.code, 2);
  assert.ok(again.err.includes("--resume"), again.err);

  const report = await run("report", out, "--out", join(dir, "report"));
  assert.equal(report.code, 0, report.err);
  const markdown = readFileSync(join(dir, "report", "RESULTS.md"), "utf8");
  assert.ok(markdown.includes("Largest compression with < 1% quality loss"));
  assert.ok(markdown.includes("within two standard errors of chance"), "3 PIQA items are always near chance");
  assert.ok(existsSync(join(dir, "report", "figures", "pareto-tinystories-prompt-ppl.svg")));
  assert.ok(existsSync(join(dir, "report", "figures", "fig2a-tinystories-stream-ppl.svg")));
  assert.ok(readFileSync(join(dir, "report", "figures", "all-runs.md"), "utf8").includes("uniform keys-only"));
});

test("a sweep stopped by SIGTERM exits 143 (128 + SIGTERM), not 130", { skip: SKIP_SHARED, timeout: 120_000 }, async () => {
  const grid = join(dir, "grid-term.txt");
  writeFileSync(grid, "fp32\nfp16\nuniform:bits=8\nuniform:bits=4\nuniform:bits=2\nkivi:bits=2\n");
  const out = join(dir, "terminated.jsonl");
  const argv = [CLI, "sweep", "--tasks", "hellaswag", "--grid", grid, "--limit", "8", "--out", out, "--jobs", "1"];
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const started = new Promise<void>((resolve) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("fp32 references")) resolve(); // the workers are up and computing
    });
    child.on("exit", () => resolve());
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await started;
  child.kill("SIGTERM");
  assert.equal(await exited, 143, stderr);
  assert.ok(stderr.includes("--resume"), stderr);
});

test("an interrupted sweep keeps its finished lines and --resume completes it", { skip: SKIP_SHARED, timeout: 180_000 }, async () => {
  const grid = join(dir, "grid6.txt");
  writeFileSync(grid, "fp32\nfp16\nuniform:bits=8\nuniform:bits=4\nuniform:bits=2\nkivi:bits=2\nblockq:q8_0\nstreaming:budget=16\n");
  const out = join(dir, "interrupted.jsonl");
  const argv = [CLI, "sweep", "--tasks", "hellaswag", "--grid", grid, "--limit", "4", "--out", out, "--jobs", "2"];
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // interrupt as soon as the first line is on disk
  let finished = false;
  void exited.then(() => (finished = true));
  while (!finished && !(existsSync(out) && readFileSync(out, "utf8").includes("\n"))) await new Promise((r) => setTimeout(r, 10));
  child.kill("SIGINT");
  const code = await exited;
  const kept = readFileSync(out, "utf8");
  const before = lines(out).length;
  assert.ok(before >= 1 && kept.endsWith("\n"));
  if (before < 16) {
    assert.equal(code, 130, stderr); // 128 + SIGINT, as shells report an interrupted command
    assert.ok(stderr.includes("--resume"), stderr);
  }
  const resumed = await run("sweep", "--tasks", "hellaswag", "--grid", grid, "--limit", "4", "--out", out, "--resume");
  assert.equal(resumed.code, 0, resumed.err);
  const all = lines(out);
  assert.equal(all.length, 16);
  assert.equal(new Set(all.map((l) => l.key)).size, 16);
  assert.ok(readFileSync(out, "utf8").startsWith(kept), "finished lines are kept as they were");
});
