// The tokenizer against the independent reference in shared/golden/stories260K.json (llama2.c semantics on tok512.bin).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tokenizerFromLlama2cFile } from "../../src/tokenizer/loadTokenizer.js";
import { missingSharedReason, readGolden, tok512Path, tinyStoriesPath } from "./sharedFiles.js";

const skip = missingSharedReason;

test("encode gives the golden ids (with BOS) for every golden text", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  for (const { text, ids } of readGolden().tokenize) {
    assert.deepEqual([...tokenizer.encode(text, { addBos: true })], ids, text);
  }
});

test("encode without BOS is the golden ids minus the leading BOS", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const { text, ids } = readGolden().tokenize[1]!;
  assert.deepEqual([...tokenizer.encode(text, { addBos: false })], ids.slice(1));
});

test("the golden prompt encodes to the golden prompt ids", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const { prompt, prompt_ids } = readGolden().greedy_from_prompt;
  assert.deepEqual([...tokenizer.encode(prompt, { addBos: true })], prompt_ids);
});

test("decode of the golden greedy ids gives the golden text", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const { ids, text } = readGolden().greedy_from_bos;
  assert.equal(tokenizer.decode(ids), text);
  // The golden continuation is stored without the space that separates it from the prompt.
  const fromPrompt = readGolden().greedy_from_prompt;
  assert.equal(tokenizer.decode(fromPrompt.ids), `${fromPrompt.prompt} ${fromPrompt.continuation}`);
});

test("the empty text is BOS alone, or nothing", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  assert.deepEqual([...tokenizer.encode("", { addBos: true })], [1]);
  assert.deepEqual([...tokenizer.encode("", { addBos: false })], []);
});

test("tok512 facts: 512 pieces, BOS 1, EOS 2, control tokens decode to nothing", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  assert.equal(tokenizer.vocabSize, 512);
  assert.equal(tokenizer.bosId, 1);
  assert.equal(tokenizer.eosId, 2);
  // Ids 1 and 2 are "\n<s>\n" and "\n</s>\n" in the file; llama2.c prints them, this engine does not.
  assert.equal(tokenizer.decode([1, 2, 1]), "");
});

test("the leading space is dropped only right after BOS", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const once = tokenizer.vocabulary.pieceIds.get(" Once")!;
  assert.equal(tokenizer.decode([once]), " Once");
  assert.equal(tokenizer.decode([1, once]), "Once");
  assert.equal(tokenizer.decode([1, once, once]), "Once Once");
});

test("decode(encode(text)) restores TinyStories paragraphs and unusual characters exactly", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const paragraphs = readFileSync(tinyStoriesPath, "utf8").slice(0, 20_000).split(/\n\s*\n/);
  const samples = [...paragraphs, "tabs\tand\r\nnewlines", "emoji 🦊🌳 and 中文", "\u0000nul", "  two leading spaces"];
  for (const text of samples) assert.equal(tokenizer.decode(tokenizer.encode(text, { addBos: true })), text);
});

test("a lone surrogate encodes like U+FFFD (what TextEncoder would write)", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  assert.deepEqual([...tokenizer.encode("a\ud800b", { addBos: true })], [...tokenizer.encode("a\ufffdb", { addBos: true })]);
});

test("decode rejects ids outside the vocabulary", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  assert.throws(() => tokenizer.decode([1, 512]), /token id 512 is outside the vocabulary \(0\.\.511\)/);
  assert.throws(() => tokenizer.decode([-1]), /token id -1/);
});

test("special-token parsing: control pieces in text become their ids, with the dummy prefix after each (llama.cpp)", { skip }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const plain = (text: string): number[] => [...tokenizer.encode(text, { addBos: false })];
  // "a</s>b": "a" gets the dummy prefix as the first text, "b" gets it again after the special token.
  assert.deepEqual([...tokenizer.encode("a</s>b", { addBos: false, parseSpecial: true })], [...plain("a"), 2, ...plain("b")]);
  assert.deepEqual([...tokenizer.encode("<s>hi", { addBos: false, parseSpecial: true })], [1, ...plain("hi")]);
  // Without parsing, the same text is characters: no BOS/EOS id appears, exactly as before special parsing existed.
  const asText = plain("a</s>b");
  assert.ok(!asText.includes(2) && !asText.includes(1));
  assert.deepEqual([...tokenizer.encode("a", { addEos: true })], [1, ...plain("a"), 2]);
  assert.deepEqual(tokenizer.endOfGenerationIds, [2]);
  assert.equal(tokenizer.decode([1, ...plain("hi"), 2], { special: true }), "<s>hi</s>");
});
