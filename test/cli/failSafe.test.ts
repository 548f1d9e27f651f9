import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER } from "../support/paths.js";
import { runCli } from "../../src/cli/main.js";
import { writeSyntheticLlamaGguf } from "../../src/format/syntheticModel.js";
import type { CliIo } from "../../src/cli/io.js";

/**
 * Failures a user can cause, run as the real command in a child process: each ends in one line on stderr, exit 2
 * for a usage mistake, 1 for bad input, 130/143 for Ctrl-C/SIGTERM, is caught before any long work, and leaves
 * nothing behind (no partial output, no temporary folder).
 */
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "qaq-failsafe-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Finished {
  readonly code: number | null;
  readonly signal: string | null;
  readonly out: string;
  readonly err: string;
}

interface Running {
  readonly done: Promise<Finished>;
  /** resolves once stderr contains `text` (or the process has ended) */
  stderrContains(text: string): Promise<void>;
  /** resolves once stdout has some output (or the process has ended) */
  outputStarted(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

function start(argv: readonly string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [CLI, ...argv], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  let err = "";
  let ended = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    wake();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    wake();
  });
  const done = new Promise<Finished>((resolve) =>
    child.on("close", (code, signal) => {
      ended = true;
      wake();
      resolve({ code, signal, out, err });
    }),
  );
  const until = async (ready: () => boolean) => {
    while (!ended && !ready()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return {
    done,
    stderrContains: (text) => until(() => err.includes(text)),
    outputStarted: () => until(() => out.length > 0),
    kill: (signal) => child.kill(signal),
  };
}

const run = (argv: readonly string[], env?: Record<string, string>) => start(argv, env).done;

/** The same command in this process (no start-up cost): for failures that need no signal and no terminal. */
async function runHere(argv: readonly string[]): Promise<Finished> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, io);
  return { code, signal: null, out, err };
}

/** One line on stderr, no stack trace, no "internal error". */
function assertOneLine(result: Finished, code: number, ...fragments: string[]): void {
  assert.equal(result.code, code, `exit ${result.code}, stderr: ${result.err}`);
  const lines = result.err.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line expected: ${result.err}`);
  assert.ok(!result.err.includes("internal error") && !/\n\s+at /.test(result.err), result.err);
  for (const f of fragments) assert.ok(result.err.includes(f), `stderr lacks "${f}": ${result.err}`);
}

const MODEL_FLAGS = ["--model", BUNDLED_MODEL, "--tokenizer", BUNDLED_TOKENIZER];

test("convert --out a folder: exit 2 naming it, before any conversion", { timeout: 60_000 }, async () => {
  const folder = join(dir, "a-folder");
  mkdirSync(folder);
  assertOneLine(await runHere(["convert", BUNDLED_MODEL, "--tokenizer", BUNDLED_TOKENIZER, "--out", folder]), 2, folder, "is a folder");
  assert.deepEqual(readdirSync(folder), []);
});

test("convert with the input as output: exit 2, the input untouched", { timeout: 60_000 }, async () => {
  const input = join(dir, "same.bin");
  writeFileSync(input, readFileSync(BUNDLED_MODEL));
  const result = await runHere(["convert", input, "--tokenizer", BUNDLED_TOKENIZER, "--out", input]);
  assertOneLine(result, 2, "is the input file");
  assert.ok(readFileSync(input).equals(readFileSync(BUNDLED_MODEL)));
});

test("convert over an existing output: a failure leaves it as it was, success replaces it whole", { timeout: 60_000 }, async () => {
  const out = join(dir, "existing.gguf");
  writeFileSync(out, "the previous file\n");
  const badTokenizer = join(dir, "bad-tok.bin");
  writeFileSync(badTokenizer, readFileSync(BUNDLED_TOKENIZER).subarray(0, 2000)); // truncated mid-record
  const failed = await runHere(["convert", BUNDLED_MODEL, "--tokenizer", badTokenizer, "--out", out, "--type", "q8_0"]);
  assertOneLine(failed, 1, badTokenizer);
  assert.equal(readFileSync(out, "utf8"), "the previous file\n");
  const ok = await runHere(["convert", BUNDLED_MODEL, "--tokenizer", BUNDLED_TOKENIZER, "--out", out, "--type", "q8_0"]);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(readFileSync(out).subarray(0, 4).toString("latin1"), "GGUF");
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes(".partial")), [], "no temporary file is left");
});

test("kvmap --out into a missing folder: exit 2 before the model is even opened", { timeout: 60_000 }, async () => {
  const prefix = join(dir, "no-such-folder", "map");
  // the model path does not exist either: the output check comes first, so the error is about the folder
  const result = await runHere(["kvmap", "--out", prefix, "--model", join(dir, "missing.bin"), "--max-tokens", "4"]);
  assertOneLine(result, 2, join(dir, "no-such-folder"), "does not exist");
});

test("bad --kv values are usage errors (exit 2) with a did-you-mean", { timeout: 60_000 }, async () => {
  assertOneLine(await runHere(["generate", "--kv", "qaq:ktol=0.1", "--max-tokens", "1"]), 2, "qaq.ktol", 'did you mean "kTol"?');
  assertOneLine(await runHere(["ppl", "--text", BUNDLED_TOKENIZER, "--kv", "unifrom:bits=4"]), 2, 'did you mean "uniform"?');
  assertOneLine(await runHere(["generate", "--kv", "qaq:group=heads", "--max-tokens", "1"]), 2, 'did you mean "head"?');
  assertOneLine(await runHere(["generate", "--kv", "qaq:kTol=-1", "--max-tokens", "1"]), 2, "qaq.kTol");
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  test(`${signal} during generate --kv qaq:backing=file leaves no temporary folder`, { timeout: 60_000 }, async () => {
    const tmp = mkdtempSync(join(dir, "tmp-"));
    const argv = ["generate", ...MODEL_FLAGS, "--kv", "qaq:backing=file", "--max-tokens", "100000", "--threads", "1"];
    const child = start(argv, { TMPDIR: tmp });
    await child.outputStarted(); // generating: the cache and its backing file exist
    child.kill(signal);
    const result = await child.done;
    assert.ok(result.signal === signal || result.code === 0, `ended by ${result.signal ?? result.code}`);
    assert.deepEqual(readdirSync(tmp), [], "nothing left in the temporary folder");
  });
}

/** A text of ~30K tokens for stories260K: slow enough to interrupt (tens of seconds to score). */
function longText(): string {
  const path = join(dir, "long.txt");
  if (!existsSync(path)) {
    const words = "once upon a time there was a little girl named lily she liked to play in the park with her dog".split(" ");
    const paragraphs = Array.from({ length: 400 }, (_, p) => Array.from({ length: 60 }, (_, w) => words[(p * 7 + w * 13) % words.length]).join(" "));
    writeFileSync(path, paragraphs.join("\n\n") + "\n");
  }
  return path;
}

test("Ctrl-C during ppl prints the result over the tokens scored so far, marked partial, and exits 130", { timeout: 120_000 }, async () => {
  const child = start(["ppl", ...MODEL_FLAGS, "--text", longText(), "--threads", "1", "--json"], { QAQ_PROGRESS: "tty" });
  await child.stderrContains("tokens/s"); // the scoring bar is up: some blocks are scored
  child.kill("SIGINT");
  const result = await child.done;
  assert.equal(result.code, 130, result.err);
  const report = JSON.parse(result.out) as { partial: boolean; scored: number; tokens: number; ppl: number };
  assert.equal(report.partial, true);
  assert.ok(report.scored > 0 && report.scored < report.tokens - 1, `scored ${report.scored} of ${report.tokens - 1}`);
  assert.ok(Number.isFinite(report.ppl) && report.ppl > 1);
  assert.ok(result.err.includes("partial"), result.err);
});

test("Ctrl-C during eval prints the result over the items scored so far, marked partial, and exits 130", { timeout: 120_000 }, async () => {
  const argv = ["eval", ...MODEL_FLAGS, "--task", "text", "--data", longText(), "--limit", "3000", "--kv", "uniform:bits=4", "--protocol", "stream", "--ctx", "64", "--threads", "1", "--json"];
  const child = start(argv, { QAQ_PROGRESS: "tty" });
  await child.stderrContains("uniform:bits=4"); // the run's bar (after the fp32 reference pass)
  child.kill("SIGINT");
  const result = await child.done;
  assert.equal(result.code, 130, result.err);
  const line = JSON.parse(result.out) as { partial?: boolean; items: number; metrics: { ppl: number; windows: number } };
  assert.equal(line.partial, true);
  assert.ok(line.metrics.windows >= 1 && Number.isFinite(line.metrics.ppl), JSON.stringify(line.metrics));
});

test("Ctrl-C during eval's fp32 reference pass: one line saying nothing was scored yet, exit 130", { timeout: 120_000 }, async () => {
  const argv = ["eval", ...MODEL_FLAGS, "--task", "text", "--data", longText(), "--limit", "3000", "--kv", "uniform:bits=4", "--protocol", "stream", "--ctx", "64", "--threads", "1", "--json"];
  const child = start(argv, { QAQ_PROGRESS: "tty" });
  await child.stderrContains("fp32 reference"); // the reference pass's bar is up
  child.kill("SIGINT");
  const result = await child.done;
  assert.equal(result.code, 130, result.err);
  assert.equal(result.out, "", "no result line: no item was scored under the evaluated cache");
  const lastLine = result.err.split(/[\r\n]/).filter((line) => line.startsWith("qaq:"));
  assert.equal(lastLine.length, 1, result.err);
  assert.match(lastLine[0]!, /^qaq: interrupted \(SIGINT\) before any item was scored: the fp32 reference pass had done \d+ of \d+ items$/);
});

/** A synthetic f32 GGUF of ~14 MB: converting it to q4_k_m takes seconds (long enough to interrupt). */
async function convertInput(): Promise<string> {
  const path = join(dir, "synthetic-f32.gguf");
  if (!existsSync(path)) {
    await writeSyntheticLlamaGguf(path, { dim: 256, hiddenDim: 768, nLayers: 4, nHeads: 4, nKvHeads: 4, vocabSize: 2048, seqLen: 256 }, "f32", 5);
  }
  return path;
}

for (const existing of [false, true]) {
  test(`Ctrl-C during convert ${existing ? "over an existing output leaves it as it was" : "leaves no output"}, no temporary file, exit 130`, { timeout: 120_000 }, async () => {
    const input = await convertInput();
    const folder = mkdtempSync(join(dir, "convert-"));
    const out = join(folder, "out.gguf");
    if (existing) writeFileSync(out, "the previous file\n");
    const child = start(["convert", input, "--out", out, "--type", "q4_k_m"], { QAQ_PROGRESS: "tty" });
    await child.stderrContains("writing"); // the write bar is up: the temporary file exists and is being filled
    child.kill("SIGINT");
    const result = await child.done;
    assert.equal(result.code, 130, result.err);
    assert.match(result.err, /qaq: interrupted \(SIGINT\): .*out\.gguf was not written \(an existing file is left as it was\)\n$/);
    assert.deepEqual(readdirSync(folder), existing ? ["out.gguf"] : [], "no temporary file, no partial output");
    if (existing) assert.equal(readFileSync(out, "utf8"), "the previous file\n");
  });
}

test("two quick Ctrl-Cs during convert (the second exits at once) leave no temporary file either", { timeout: 120_000 }, async () => {
  const input = await convertInput();
  const folder = mkdtempSync(join(dir, "convert-twice-"));
  const child = start(["convert", input, "--out", join(folder, "out.gguf"), "--type", "q4_k_m"], { QAQ_PROGRESS: "tty" });
  await child.stderrContains("writing");
  child.kill("SIGINT");
  child.kill("SIGINT");
  const result = await child.done;
  assert.equal(result.code, 130, result.err);
  assert.deepEqual(readdirSync(folder), []);
});

test("convert shows read and write bars on a terminal, none with --quiet", { timeout: 120_000 }, async () => {
  const folder = mkdtempSync(join(dir, "convert-bar-"));
  const argv = ["convert", BUNDLED_MODEL, "--tokenizer", BUNDLED_TOKENIZER, "--out", join(folder, "m.gguf"), "--type", "q8_0"];
  const shown = await run(argv, { QAQ_PROGRESS: "tty" });
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.err, /100% .* bytes, .* bytes\/s, .* elapsed, ETA .* reading /);
  assert.match(shown.err, /100% .* bytes, .* bytes\/s, .* elapsed, ETA .* writing /);
  const quiet = await run([...argv, "--quiet"], { QAQ_PROGRESS: "tty" });
  assert.equal(quiet.code, 0, quiet.err);
  assert.ok(!quiet.err.includes("bytes/s"), quiet.err);
  assert.match(quiet.err, /^wrote /);
});

test("a write that the file system refuses (file-size limit, as a full disk): exit 1, one line, nothing left, OUT as it was", { timeout: 60_000, skip: process.platform === "win32" }, async () => {
  // RLIMIT_FSIZE of 100 KiB: the 344 KB q8_0 output fails mid-write with EFBIG (Node ignores SIGXFSZ), the same path
  // through the writer as ENOSPC on a full disk
  const folder = mkdtempSync(join(dir, "fsize-"));
  const out = join(folder, "out.gguf");
  writeFileSync(out, "the previous file\n");
  const argv = [CLI, "convert", BUNDLED_MODEL, "--tokenizer", BUNDLED_TOKENIZER, "--out", out, "--type", "q8_0"];
  const child = spawn("/bin/sh", ["-c", 'ulimit -f 100 && exec "$@"', "sh", process.execPath, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  assertOneLine({ code, signal: null, out: "", err }, 1, out, "write failed", "EFBIG");
  assert.deepEqual(readdirSync(folder), ["out.gguf"], "the temporary file is removed");
  assert.equal(readFileSync(out, "utf8"), "the previous file\n");
});

test("convert takes a GGUF as input (re-encoding its matrices) and refuses --tokenizer with it", { timeout: 60_000 }, async () => {
  const folder = mkdtempSync(join(dir, "convert-gguf-"));
  const f32 = join(folder, "m-f32.gguf");
  const q8 = join(folder, "m-q8_0.gguf");
  assert.equal((await runHere(["convert", BUNDLED_MODEL, "--tokenizer", BUNDLED_TOKENIZER, "--out", f32])).code, 0);
  const converted = await runHere(["convert", f32, "--out", q8, "--type", "q8_0"]);
  assert.equal(converted.code, 0, converted.err);
  assert.match(converted.err, /^wrote .*m-q8_0\.gguf: 47 tensors \(31 q8_0, 11 f32, 5 f16\)/);
  assertOneLine(await runHere(["convert", f32, "--tokenizer", BUNDLED_TOKENIZER, "--out", join(folder, "x.gguf")]), 2, "carries its own vocabulary");
  assert.deepEqual(readdirSync(folder).sort(), ["m-f32.gguf", "m-q8_0.gguf"]);
});

test("every command that draws a progress or loading bar takes --quiet", { timeout: 60_000 }, async () => {
  for (const command of ["generate", "chat", "kvmap", "ppl", "eval", "convert", "serve", "sweep"]) {
    const help = await runHere([command, "--help"]);
    assert.equal(help.code, 0, `${command}: ${help.err}`);
    assert.match(help.out + help.err, /--quiet\s+no progress bar on stderr/, command);
  }
});

test("progress goes to a terminal only: none on a pipe, none with --quiet", { timeout: 60_000 }, async () => {
  const text = join(dir, "short.txt");
  writeFileSync(text, "Once upon a time there was a girl.\n\nShe had a dog.\n");
  // --json: the text output's cache line also goes to stderr; with JSON stderr holds only what progress writes
  const flags = ["ppl", ...MODEL_FLAGS, "--text", text, "--threads", "1", "--json"];
  const piped = await run(flags);
  assert.equal(piped.code, 0, piped.err);
  assert.equal(piped.err, "");
  const quiet = await run([...flags, "--quiet"], { QAQ_PROGRESS: "tty" });
  assert.equal(quiet.err, "");
  const shown = await run(flags, { QAQ_PROGRESS: "tty" });
  assert.match(shown.err, /100% .* bytes, .* bytes\/s, .* elapsed, ETA .* loading /); // the model file
  assert.match(shown.err, /100% .* tokens, .* tokens\/s, .* elapsed, ETA/);
});
