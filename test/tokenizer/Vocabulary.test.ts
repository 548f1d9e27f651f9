// Vocabulary construction: llama2.c conventions, a GGUF-style vocabulary built in memory from the tok512 pieces (the
// way llama.cpp's converter writes them: "▁" spaces, <s>/</s>, token types), and the failures of bad GGUF fields.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FileFormatError, UnsupportedError } from "../../src/util/errors.js";
import { parseLlama2cTokenizerFile } from "../../src/format/llama2cTokenizerFile.js";
import { tokenizerFromGgufVocabulary } from "../../src/tokenizer/loadTokenizer.js";
import { SentencePieceTokenizer } from "../../src/tokenizer/SentencePieceTokenizer.js";
import { vocabularyFromGguf, vocabularyFromLlama2c, type GgufVocabularyFields } from "../../src/tokenizer/Vocabulary.js";
import { missingSharedReason, readGolden, tok512Path } from "./sharedFiles.js";

const skip = missingSharedReason;

/** llama.cpp token_type codes. */
const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, UNUSED = 5, BYTE = 6;

function tok512(): { pieces: readonly string[]; scores: Float32Array } {
  return parseLlama2cTokenizerFile(readFileSync(tok512Path), tok512Path);
}

/** The tok512 vocabulary as a GGUF file would hold it (ids 3..258 are the byte pieces). */
/** The tokenizer the GGUF loader builds, checked to be the SentencePiece kind so its vocabulary can be inspected. */
function spTokenizer(fields: GgufVocabularyFields): SentencePieceTokenizer {
  const tokenizer = tokenizerFromGgufVocabulary(fields, "memory.gguf");
  assert.ok(tokenizer instanceof SentencePieceTokenizer);
  return tokenizer;
}

function ggufFieldsFromTok512(): GgufVocabularyFields {
  const { pieces, scores } = tok512();
  const tokens = pieces.map((piece) => piece.replaceAll(" ", "\u2581"));
  tokens[1] = "<s>";
  tokens[2] = "</s>";
  const tokenTypes = pieces.map((_, id) => (id === 0 ? UNKNOWN : id <= 2 ? CONTROL : id <= 258 ? BYTE : NORMAL));
  return { model: "llama", tokens, scores, tokenTypes, bosId: 1, eosId: 2, unknownId: 0 };
}

test("llama2.c vocabulary: unk 0, BOS 1, EOS 2, byte pieces 3..258, space kept as ' '", { skip }, () => {
  const { pieces, scores } = tok512();
  const vocabulary = vocabularyFromLlama2c(pieces, scores, tok512Path);
  assert.deepEqual([vocabulary.unknownId, vocabulary.bosId, vocabulary.eosId], [0, 1, 2]);
  assert.deepEqual(vocabulary.types.slice(0, 4), ["unknown", "control", "control", "byte"]);
  assert.equal(vocabulary.types[259], "normal");
  assert.equal(vocabulary.hasByteFallback, true);
  // "<0x00>" is id 3, so byte b is id b + 3 (the file's documented layout).
  assert.deepEqual([...vocabulary.byteIds], Array.from({ length: 256 }, (_, byte) => byte + 3));
  assert.equal(vocabulary.pieces[259], " t");
  assert.equal(vocabulary.pieceIds.get(" t"), 259);
});

test("a GGUF-style vocabulary of the same pieces encodes to the same golden ids", { skip }, () => {
  const tokenizer = spTokenizer(ggufFieldsFromTok512());
  assert.equal(tokenizer.vocabulary.pieces[259], " t", "the ▁ marker is normalised to a space");
  const golden = readGolden();
  for (const { text, ids } of golden.tokenize) assert.deepEqual([...tokenizer.encode(text, { addBos: true })], ids, text);
  assert.equal(tokenizer.decode(golden.greedy_from_bos.ids), golden.greedy_from_bos.text);
});

test("GGUF without token types or ids falls back to llama.cpp's SentencePiece defaults", { skip }, () => {
  const fields = { ...ggufFieldsFromTok512(), tokenTypes: undefined, bosId: undefined, eosId: undefined, unknownId: 0 };
  const vocabulary = vocabularyFromGguf(fields, "memory.gguf");
  assert.deepEqual([vocabulary.bosId, vocabulary.eosId], [1, 2]);
  assert.deepEqual(vocabulary.types.slice(0, 4), ["unknown", "control", "control", "byte"]);
  assert.equal(vocabulary.hasByteFallback, true);
});

test("without byte fallback, characters that are not pieces become the unknown id", { skip }, () => {
  const fields = ggufFieldsFromTok512();
  // Marking the byte pieces unused removes byte fallback while keeping every id in place.
  const tokenTypes = Array.from(fields.tokenTypes!, (type) => (type === BYTE ? UNUSED : type));
  const tokenizer = spTokenizer({ ...fields, tokenTypes, unknownId: undefined });
  assert.equal(tokenizer.vocabulary.hasByteFallback, false);
  assert.equal(tokenizer.vocabulary.unknownId, 0, "found through the token type");
  const id = (piece: string): number => tokenizer.vocabulary.pieceIds.get(piece)!;
  // " a" is a piece and "☃" is not; "<unk>" joined to anything is no piece, so nothing merges across it.
  assert.deepEqual([...tokenizer.encode("a☃b", { addBos: true })], [1, id(" a"), 0, id("b")]);
  assert.deepEqual([...tokenizer.encode("☃", { addBos: false })], [id(" "), 0]);
  assert.equal(tokenizer.decode([1, id(" a"), 0, id("b")]), "a<unk>b");
});

test("without byte fallback or an unknown piece, an unknown character is a clear error", { skip }, () => {
  const fields = ggufFieldsFromTok512();
  const tokenTypes = Array.from(fields.tokenTypes!, (type) => (type === BYTE || type === UNKNOWN ? UNUSED : type));
  const tokenizer = tokenizerFromGgufVocabulary({ ...fields, tokenTypes, unknownId: undefined }, "memory.gguf");
  assert.throws(() => tokenizer.encode("a☃", { addBos: true }), (error: unknown) => {
    return error instanceof UnsupportedError && /U\+2603/.test(error.message);
  });
});

test("only the 'llama' tokenizer model is accepted, and the error names the other one", () => {
  const fields: GgufVocabularyFields = {
    model: "gpt2", tokens: ["a"], scores: [0], tokenTypes: [NORMAL], bosId: 0, eosId: 0, unknownId: undefined,
  };
  assert.throws(() => vocabularyFromGguf(fields, "m.gguf"), (error: unknown) => {
    return error instanceof UnsupportedError && error.message.includes('"gpt2"') && error.message.includes("m.gguf");
  });
});

test("inconsistent GGUF vocabulary fields give a FileFormatError naming the file and the problem", () => {
  const good: GgufVocabularyFields = {
    model: "llama", tokens: ["<unk>", "<s>", "</s>", "\u2581a"], scores: [0, 0, 0, -1],
    tokenTypes: [UNKNOWN, CONTROL, CONTROL, NORMAL], bosId: 1, eosId: 2, unknownId: 0,
  };
  assert.equal(vocabularyFromGguf(good, "v.gguf").pieces[3], " a");
  const bad: [Partial<GgufVocabularyFields>, RegExp][] = [
    [{ scores: [0, 0, 0] }, /3 scores for 4 pieces/],
    [{ scores: undefined }, /tokenizer\.ggml\.scores is missing/],
    [{ scores: [0, 0, 0, NaN] }, /score of piece 3 is NaN/],
    [{ tokenTypes: [2, 3, 3] }, /token_type has 3 entries for 4 tokens/],
    [{ tokenTypes: [2, 3, 3, 9] }, /token_type of token 3 is 9/],
    [{ tokenTypes: [2, 3, 3, BYTE] }, /token 3 is typed as a byte/],
    [{ bosId: 4 }, /BOS id 4 is outside the vocabulary of 4 pieces/],
    [{ eosId: -1 }, /EOS id -1/],
    [{ tokens: [], scores: [], tokenTypes: [] }, /vocabulary is empty/],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => vocabularyFromGguf({ ...good, ...change }, "v.gguf"), (error: unknown) => {
      return error instanceof FileFormatError && error.file === "v.gguf" && message.test(error.message);
    }, String(message));
  }
});

test("a llama2.c vocabulary needs the three special pieces", () => {
  assert.throws(() => vocabularyFromLlama2c(["a", "b"], [0, 0], "t.bin"), FileFormatError);
});
