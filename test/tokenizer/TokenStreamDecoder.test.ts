// Streaming decoding: text comes out as soon as it is complete, and all of it equals decode() of the same ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenizerFromLlama2cFile } from "../../src/tokenizer/loadTokenizer.js";
import { missingSharedReason, readGolden, tok512Path } from "./sharedFiles.js";

const skip = missingSharedReason;

test("a character split over byte tokens comes out whole, with its last byte", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  // Golden entry 5, "héllo wörld ☃": its last three ids are the bytes E2 98 83 of "☃" (byte b is id b + 3).
  const { text, ids } = readGolden().tokenize[4]!;
  assert.deepEqual(ids.slice(-3), [0xe2 + 3, 0x98 + 3, 0x83 + 3]);
  const decoder = tokenizer.createStreamDecoder();
  const outputs = ids.map((id) => decoder.push(id));
  assert.deepEqual(outputs.slice(-3), ["", "", "☃"]);
  const streamed = outputs.join("") + decoder.flush();
  assert.equal(streamed, text);
  assert.equal(streamed, tokenizer.decode(ids));
});

test("streaming the golden greedy ids gives the golden text", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const { ids, text } = readGolden().greedy_from_bos;
  const decoder = tokenizer.createStreamDecoder();
  let streamed = "";
  for (const id of ids) streamed += decoder.push(id);
  assert.equal(streamed + decoder.flush(), text);
});

test("an unfinished character at the end flushes as U+FFFD, like decode()", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const ids = [1, 0xe2 + 3, 0x98 + 3];
  const decoder = tokenizer.createStreamDecoder();
  assert.equal(ids.map((id) => decoder.push(id)).join(""), "");
  assert.equal(decoder.flush(), "\ufffd");
  assert.equal(tokenizer.decode(ids), "\ufffd");
  // After a flush the decoder starts clean.
  assert.equal(decoder.push(0x41 + 3), "A");
});

test("an invalid byte sequence interrupted by text decodes the same streamed and whole", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const a = tokenizer.vocabulary.pieceIds.get("a")!;
  const ids = [0xe2 + 3, a, 0x98 + 3, 0xff + 3, 0xe2 + 3, 0x98 + 3, 0x83 + 3];
  const decoder = tokenizer.createStreamDecoder();
  const streamed = ids.map((id) => decoder.push(id)).join("") + decoder.flush();
  assert.equal(streamed, tokenizer.decode(ids));
  // WHATWG UTF-8 decoding: one U+FFFD per maximal invalid subsequence.
  assert.equal(streamed, "\ufffda\ufffd\ufffd☃");
});
