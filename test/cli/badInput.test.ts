import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, SHARED_GGUF, SKIP_SHARED } from "../support/paths.js";

/** Every bad input ends in one clear line naming the file and the problem, a non-zero exit, and no stack trace. */
const dir = mkdtempSync(join(tmpdir(), "qaq-bad-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

function assertCleanFailure(result: { code: number; err: string }, ...fragments: string[]): void {
  assert.notEqual(result.code, 0);
  for (const f of fragments) assert.ok(result.err.includes(f), `stderr lacks "${f}": ${result.err}`);
  assert.ok(!/\n\s+at /.test(result.err), `stack trace in: ${result.err}`);
  assert.ok(!result.err.includes("internal error"), result.err);
}

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Byte offset just after the first occurrence of `text` (ASCII) in `bytes`. */
function after_(bytes: Uint8Array, text: string): number {
  const at = Buffer.from(bytes).indexOf(Buffer.from(text, "latin1"));
  assert.ok(at >= 0, `${text} not found`);
  return at + text.length;
}

test("a missing model file", async () => {
  const missing = join(dir, "nope.gguf");
  assertCleanFailure(await run("generate", "--model", missing, "--max-tokens", "1"), missing);
});

test("a truncated llama2.c checkpoint", async () => {
  const path = file("cut.bin", readFileSync(BUNDLED_MODEL).subarray(0, 5000));
  assertCleanFailure(await run("generate", "--model", path, "--tokenizer", BUNDLED_TOKENIZER, "--max-tokens", "1"), path);
});

test("a truncated GGUF and a GGUF with a wrong magic", { skip: SKIP_SHARED }, async () => {
  const bytes = readFileSync(SHARED_GGUF);
  const cut = file("cut.gguf", bytes.subarray(0, 3000));
  assertCleanFailure(await run("inspect", cut), cut);
  const wrong = Uint8Array.from(bytes);
  wrong.set([0x47, 0x47, 0x55, 0x58], 0); // "GGUX"
  const path = file("magic.gguf", wrong);
  assertCleanFailure(await run("generate", "--model", path, "--max-tokens", "1"), path);
});

test("an unsupported tensor type (Q4_K) and a foreign architecture", { skip: SKIP_SHARED }, async () => {
  const bytes = Uint8Array.from(readFileSync(SHARED_GGUF));
  // tensor info: name, n_dims u32, dims u64[n_dims], type u32
  const info = after_(bytes, "token_embd.weight");
  const view = new DataView(bytes.buffer);
  const nDims = view.getUint32(info, true);
  view.setUint32(info + 4 + 8 * nDims, 12, true);
  const q4k = file("q4k.gguf", bytes);
  assertCleanFailure(await run("generate", "--model", q4k, "--max-tokens", "1"), q4k, "Q4_K");

  const arch = Uint8Array.from(readFileSync(SHARED_GGUF));
  const value = after_(arch, "general.architecture") + 4 + 8; // value type u32, string length u64
  arch.set(Buffer.from("mamba"), value);
  const mamba = file("mamba.gguf", arch);
  assertCleanFailure(await run("generate", "--model", mamba, "--max-tokens", "1"), mamba, "mamba");
});

test("a tokenizer whose size does not match the model's vocabulary", async () => {
  // a valid llama2.c tokenizer file with 300 pieces (the model has 512)
  const parts: Buffer[] = [Buffer.from(Int32Array.of(8).buffer)];
  for (let i = 0; i < 300; i++) {
    const piece = Buffer.from(`p${i}`);
    parts.push(Buffer.from(Float32Array.of(-i).buffer), Buffer.from(Int32Array.of(piece.length).buffer), piece);
  }
  const tok = file("tok300.bin", Buffer.concat(parts));
  assertCleanFailure(await run("generate", "--model", BUNDLED_MODEL, "--tokenizer", tok, "--max-tokens", "1"), tok, "512");
});

test("a prompt longer than the context", async () => {
  const prompt = "the dog ran and the cat sat. ".repeat(200);
  assertCleanFailure(await run("generate", "--prompt", prompt, "--max-tokens", "1"), "context");
});

test("unknown commands and flags, bad values", async () => {
  assertCleanFailure(await run("fly"), "unknown command");
  assertCleanFailure(await run("generate", "--colour", "red"), "--colour");
  assertCleanFailure(await run("generate", "--max-tokens", "many"), "--max-tokens");
  assertCleanFailure(await run("generate", "--threads", "0"), "threads");
  assertCleanFailure(await run("generate", "--temperature", "-1"), "temperature");
  assertCleanFailure(await run("ppl"), "--text");
  assertCleanFailure(await run("convert", BUNDLED_MODEL, "--tokenizer", BUNDLED_TOKENIZER, "--out", join(dir, "x.gguf"), "--type", "q2_k"), "q2_k");
});

test("--help works for every command and generate prints only the text on stdout", async () => {
  for (const command of ["generate", "ppl", "inspect", "convert"]) {
    const r = await run(command, "--help");
    assert.equal(r.code, 0);
    assert.ok(r.out.startsWith(`usage: qaq ${command}`));
  }
  const r = await run("generate", "--max-tokens", "20");
  assert.equal(r.code, 0);
  assert.ok(r.out.startsWith("Once upon a time"), r.out);
  assert.ok(r.err.includes("tok/s"));
  const json = await run("generate", "--max-tokens", "5", "--json");
  const parsed = JSON.parse(json.out) as { ids: number[]; kv: { hotBytes: number } };
  assert.equal(parsed.ids.length, 5);
  assert.ok(parsed.kv.hotBytes > 0);
});
