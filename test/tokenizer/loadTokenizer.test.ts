// Reading tok.bin files (a hand-built one, the real tok512.bin, and broken ones) and the tokenizer/model size check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileFormatError } from "../../src/util/errors.js";
import { checkTokenizerMatchesModel, tokenizerFromLlama2cFile } from "../../src/tokenizer/loadTokenizer.js";
import { missingSharedReason, tok512Path } from "./sharedFiles.js";

/** Bytes of a tok.bin: int32 max length, then per piece float32 score, int32 length, UTF-8 bytes. */
function tokBinBytes(pieces: readonly [score: number, text: string][]): Uint8Array {
  const encoded = pieces.map(([score, text]) => [score, new TextEncoder().encode(text)] as const);
  const size = 4 + encoded.reduce((sum, [, bytes]) => sum + 8 + bytes.length, 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, Math.max(...encoded.map(([, piece]) => piece.length)), true);
  let offset = 4;
  for (const [score, piece] of encoded) {
    view.setFloat32(offset, score, true);
    view.setInt32(offset + 4, piece.length, true);
    bytes.set(piece, offset + 8);
    offset += 8 + piece.length;
  }
  return bytes;
}

const SMALL: [number, string][] = [[0, "<unk>"], [0, "\n<s>\n"], [0, "\n</s>\n"], [-1, " "], [-2, "h"], [-3, "i"], [-4, " h"], [-5, " hi"]];

function withTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "qaq-tokenizer-"));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts a FileFormatError that names `path` and matches `problem`. */
function assertFileError(action: () => unknown, path: string, problem: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof FileFormatError, `expected a FileFormatError, got ${String(error)}`);
    assert.equal(error.file, path);
    assert.ok(error.message.startsWith(path), error.message);
    assert.match(error.message, problem);
    return true;
  });
}

test("a hand-built tok.bin loads with its pieces, scores and merges", () => {
  withTempDir((dir) => {
    const path = join(dir, "small.bin");
    writeFileSync(path, tokBinBytes(SMALL));
    const tokenizer = tokenizerFromLlama2cFile(path);
    assert.equal(tokenizer.vocabSize, 8);
    assert.deepEqual(tokenizer.vocabulary.pieces, SMALL.map(([, text]) => text));
    assert.deepEqual([...tokenizer.vocabulary.scores], SMALL.map(([score]) => score));
    // " hi": [" ", h, i] -> " h" (-4) -> " hi" (-5).
    assert.deepEqual([...tokenizer.encode("hi", { addBos: true })], [1, 7]);
  });
});

test("missing, truncated and overrunning tok.bin files give a FileFormatError naming the file", () => {
  withTempDir((dir) => {
    const missing = join(dir, "absent.bin");
    assertFileError(() => tokenizerFromLlama2cFile(missing), missing, /cannot read the tokenizer file/);

    const whole = tokBinBytes(SMALL);
    const cases: [name: string, bytes: Uint8Array, problem: RegExp][] = [
      ["short-header.bin", whole.subarray(0, 3), /too short for a llama2.c tokenizer header/],
      ["empty-list.bin", whole.subarray(0, 4), /holds no tokens/],
      // Cut 3 bytes into the record of token 1 (after header 4 + record 0 of 8 + 5 bytes).
      ["cut-record.bin", whole.subarray(0, 4 + 13 + 3), /truncated: the record of token 1/],
      // Cut inside the text of the last piece.
      ["cut-piece.bin", whole.subarray(0, whole.length - 1), /truncated: token 7 \(3 bytes at byte \d+\) ends past the end/],
    ];
    const overrun = whole.slice();
    new DataView(overrun.buffer).setInt32(4 + 4, 1_000_000, true); // token 0's length
    cases.push(["overrun.bin", overrun, /token 0 has length 1000000, outside 0..max_token_length/]);
    const negative = whole.slice();
    new DataView(negative.buffer).setInt32(4 + 4, -5, true);
    cases.push(["negative.bin", negative, /token 0 has length -5, outside/]);
    const notUtf8 = whole.slice();
    notUtf8[4 + 8] = 0xff; // first byte of "<unk>"
    cases.push(["not-utf8.bin", notUtf8, /piece 0 is not valid UTF-8/]);

    for (const [name, bytes, problem] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      assertFileError(() => tokenizerFromLlama2cFile(path), path, problem);
    }
  });
});

test("checkTokenizerMatchesModel accepts the model's vocabulary size and rejects another", { skip: missingSharedReason }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  checkTokenizerMatchesModel(tokenizer, 512, "stories260K.bin");
  assertFileError(
    () => checkTokenizerMatchesModel(tokenizer, 32000, "stories260K.bin"),
    "stories260K.bin",
    /^stories260K\.bin: tokenizer has 512 pieces but the model's vocabulary is 32000$/,
  );
});
