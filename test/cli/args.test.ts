import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, tokenLimitFlag } from "../../src/cli/args.js";
import { GENERATE_FLAGS } from "../../src/cli/generateCommand.js";
import { PPL_FLAGS } from "../../src/cli/pplCommand.js";
import { CHAT_FLAGS } from "../../src/cli/chatCommand.js";
import { runCli } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { ConfigError, UsageError } from "../../src/util/errors.js";

/** Flag parsing: llama.cpp spellings, refusals with a hint, stray arguments, --max-tokens -1. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

test("llama.cpp spellings stand for our flags", () => {
  const args = parseArgs("generate", ["-m", "a.gguf", "-p", "Hi", "-n", "-1", "-c", "128", "-t", "1", "--temp", "0.7", "-s", "3"], GENERATE_FLAGS);
  assert.deepEqual(Object.fromEntries(args.flags), { model: "a.gguf", prompt: "Hi", "max-tokens": -1, ctx: 128, threads: 1, temperature: 0.7, seed: 3 });
  assert.equal(parseArgs("generate", ["--ctx-size=64", "--n-predict", "5"], GENERATE_FLAGS).flags.get("ctx"), 64);
  assert.equal(parseArgs("ppl", ["-f", "x.txt", "-c", "256"], PPL_FLAGS).flags.get("text"), "x.txt");
  assert.equal(parseArgs("chat", ["-sys", "Be brief."], CHAT_FLAGS).flags.get("system"), "Be brief.");
  assert.equal(parseArgs("chat", ["--system-prompt", "Be brief."], CHAT_FLAGS).flags.get("system"), "Be brief.");
});

test("llama.cpp flags qaq does not have are refused with a hint, never ignored", () => {
  const refused: [string[], RegExp][] = [
    [["-ngl", "99"], /-ngl is not supported: qaq runs on the CPU/],
    [["--cache-type-k", "q8_0"], /--cache-type-k is not supported: the KV cache is chosen with --kv/],
    [["-cnv"], /use qaq chat/],
    [["-f", "prompt.txt"], /-f is not supported: give the text itself/],
    [["--repeat-penalty", "1.1"], /not implemented/],
  ];
  for (const [argv, message] of refused) assert.throws(() => parseArgs("generate", argv, GENERATE_FLAGS), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));
  // a llama.cpp alias of a flag this command lacks names the flag
  assert.throws(() => parseArgs("ppl", ["-p", "x"], PPL_FLAGS), /llama\.cpp's -p is --prompt, which qaq ppl does not take/);
  assert.throws(() => parseArgs("generate", ["-x"], GENERATE_FLAGS), /unknown flag -x/);
  assert.throws(() => parseArgs("generate", ["--nope=3"], GENERATE_FLAGS), /unknown flag --nope/);
});

test("--max-tokens -1 means no limit; other negatives are refused", () => {
  assert.equal(tokenLimitFlag(parseArgs("generate", ["--max-tokens", "-1"], GENERATE_FLAGS), "max-tokens", 256), Infinity);
  assert.equal(tokenLimitFlag(parseArgs("generate", [], GENERATE_FLAGS), "max-tokens", 256), 256);
  assert.equal(tokenLimitFlag(parseArgs("generate", ["-n", "0"], GENERATE_FLAGS), "max-tokens", 256), 0);
  assert.throws(() => tokenLimitFlag(parseArgs("generate", ["-n", "-2"], GENERATE_FLAGS), "max-tokens", 256), ConfigError);
});

test("unknown flags and stray arguments exit with 2 and one line naming them", async () => {
  for (const argv of [["generate", "--bogus"], ["generate", "Once", "upon"], ["ppl", "--text", "x", "extra"], ["chat", "hello"], ["inspect", "a.gguf", "b.gguf"], ["-m", "x.gguf"]]) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(" "));
    assert.ok(r.err.startsWith("qaq: "), r.err);
    assert.ok(!r.err.includes("internal error"), r.err);
  }
  const stray = await run("generate", "Once", "upon");
  assert.match(stray.err, /unexpected arguments "Once", "upon" \(quote a prompt that has spaces/);
  assert.match((await run("-m", "x.gguf")).err, /the command comes first/);
});

test("generate -n -1 runs to the end of text or of the context (--ctx)", async () => {
  const r = await run("generate", "-p", "Once upon a time", "-n", "-1", "-c", "48", "--json");
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as { stoppedBy: string; promptTokens: number; generatedTokens: number };
  assert.ok(report.stoppedBy === "eos" || report.stoppedBy === "context", report.stoppedBy);
  if (report.stoppedBy === "context") assert.equal(report.promptTokens + report.generatedTokens, 48 + 1);
  assert.equal((await run("generate", "-c", "0")).code, 1);
});

test("--help lists the llama.cpp spellings beside each flag", async () => {
  const r = await run("generate", "--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /--max-tokens <int> .*\[also -n, --n-predict, --predict\]/);
  assert.match(r.out, /--model <text> .*\[also -m\]/);
});
