import { test } from "node:test";
import assert from "node:assert/strict";
import { loadLlama2cTokenizerFile, parseLlama2cTokenizerFile } from "../../src/format/llama2cTokenizerFile.js";
import { FileFormatError } from "../../src/util/errors.js";
import { tokenizerBytes } from "./handMadeFiles.js";
import { missingSharedReason, tok512Path } from "./sharedModelFiles.js";

test("tok512.bin: 512 pieces with the values documented for it", { skip: missingSharedReason }, async () => {
  const file = await loadLlama2cTokenizerFile(tok512Path);
  assert.equal(file.pieces.length, 512);
  assert.equal(file.scores.length, 512);
  assert.equal(file.maxTokenLength, 7);
  // ATTRIBUTION.md: byte pieces at 3..258, BOS/EOS at 1/2 (llama2.c writes them as "\n<s>\n"), spaces as " "
  assert.deepEqual(file.pieces.slice(0, 4), ["<unk>", "\n<s>\n", "\n</s>\n", "<0x00>"]);
  assert.equal(file.pieces[258], "<0xFF>");
  assert.equal(file.pieces[259], " t");
  assert.equal(file.scores[260], -1);
  assert.deepEqual(Array.from(file.pieceBytes[259]!), [0x20, 0x74]);
  assert.ok(file.validUtf8.every(Boolean));
});

test("pieces that are not UTF-8 keep their exact bytes", () => {
  const file = parseLlama2cTokenizerFile(tokenizerBytes(3, [[0, [0x61]], [-1.5, [0xe2, 0x96]], [2, []]]), "raw.bin");
  assert.deepEqual(file.pieces, ["a", "\ufffd", ""]);
  assert.deepEqual(file.validUtf8, [true, false, true]);
  assert.deepEqual(Array.from(file.pieceBytes[1]!), [0xe2, 0x96]);
  assert.deepEqual(Array.from(file.scores), [0, -1.5, 2]);
});

test("truncated and inconsistent tokenizer files fail with a FileFormatError naming the file", () => {
  const good = tokenizerBytes(4, [[0, [0x61, 0x62]], [1, [0x63]]]);
  assert.doesNotThrow(() => parseLlama2cTokenizerFile(good, "tok.bin"));
  for (const cut of [0, 3, 4 + 3, 4 + 8 + 1, good.byteLength - 1]) {
    assert.throws(
      () => parseLlama2cTokenizerFile(good.subarray(0, cut), "tok.bin"),
      (e: unknown) => e instanceof FileFormatError && e.message.startsWith("tok.bin: "),
      `cut at ${cut}`,
    );
  }
  assert.throws(() => parseLlama2cTokenizerFile(tokenizerBytes(1, [[0, [0x61, 0x62]]]), "long.bin"), /long\.bin: token 0 has length 2/);
  assert.throws(() => parseLlama2cTokenizerFile(tokenizerBytes(-5, []), "neg.bin"), /neg\.bin: max_token_length -5/);
});

test("a missing tokenizer file is a FileFormatError 'no such file'", async () => {
  await assert.rejects(loadLlama2cTokenizerFile("/nonexistent/tok.bin"), /\/nonexistent\/tok\.bin: no such file/);
});
