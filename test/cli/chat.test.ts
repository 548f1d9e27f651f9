import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../support/paths.js";

/**
 * `qaq chat` end to end: the real executable in a child process, its stdin a pipe (not a terminal), on the bundled
 * stories260K (no chat template: the plain-text format), greedy.
 */
const BIN = join(PROJECT_ROOT, "dist", "src", "cli", "bin.js");

function chat(input: string, ...flags: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "chat", ...flags], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`qaq chat did not finish in 30 s; stderr: ${err}`));
    }, 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(input);
  });
}

const TURN_LINE = /^\[(\d+) prompt tokens: (\d+) from the cache, (\d+) prefilled; (\d+) generated.*KV cache (\S+): (\d+) tokens, (\d+) bytes, ([\d.]+)x compression vs fp16/;

test("qaq chat with piped stdin: streamed replies, figures per turn, the cache kept, /reset, end of input", { timeout: 60_000 }, async () => {
  const r = await chat("Tell me about a cat.\nWhat did it eat?\n/reset\nHello\n", "--max-tokens", "20", "--kv", "uniform:k=4,v=4", "--system", "Stories.");
  assert.equal(r.code, 0, r.err);
  const replies = r.out.split("\n").filter((line) => line.trim() !== "");
  assert.ok(replies.length >= 3, `stdout: ${r.out}`);
  const turns = r.err.split("\n").map((line) => TURN_LINE.exec(line)).filter((m): m is RegExpExecArray => m !== null);
  assert.equal(turns.length, 3, r.err);
  const [first, second, afterReset] = turns.map((m) => m.slice(1).map((v, i) => (i === 4 ? v : Number(v))));
  // turn 1 prefills everything; turn 2 reuses what turn 1 left in the cache and prefills only the new tokens
  assert.equal(first![1], 0);
  assert.ok((second![1] as number) > (first![0] as number), `turn 2 reused ${second![1]}`);
  assert.equal((second![1] as number) + (second![2] as number), second![0]);
  assert.equal(second![4], "uniform:bits=4"); // the spec in its canonical form
  // after /reset the conversation starts over (system message kept)
  assert.equal(afterReset![1], 0);
  assert.ok(afterReset![0] < second![0]);
  assert.match(r.err, /\(conversation cleared\)/);
  assert.match(r.err, /plain-text chat format/);
});

test("qaq chat: /exit leaves before the end of input; a bad --kv fails before the model loads", { timeout: 60_000 }, async () => {
  const r = await chat("Hi.\n/exit\nNever read.\n", "-n", "4");
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err.split("\n").filter((line) => TURN_LINE.test(line)).length, 1);
  const bad = await chat("Hi.\n", "--kv", "uniform:k=99");
  assert.equal(bad.code, 2); // a bad --kv is a usage error, as in every command (cli/kvFlag.ts)
  assert.match(bad.err, /^qaq: .*k/);
});
