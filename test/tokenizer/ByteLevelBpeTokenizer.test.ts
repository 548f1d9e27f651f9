// Byte-level BPE on hand-made vocabularies whose answers are worked out by hand: merge order, ignore_merges,
// special-token parsing, BOS/EOS flags, end-of-generation ids, decoding of invalid UTF-8, and the load errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenizerFromGgufVocabulary } from "../../src/tokenizer/loadTokenizer.js";
import { BYTE_TO_CHAR, fromByteLevel, toByteLevel } from "../../src/tokenizer/byteLevelAlphabet.js";
import { preTokenizerFor } from "../../src/tokenizer/PreTokenizer.js";
import { MergeTable } from "../../src/tokenizer/MergeTable.js";
import type { GgufVocabularyFields } from "../../src/tokenizer/Vocabulary.js";
import { FileFormatError, UnsupportedError } from "../../src/util/errors.js";

const NORMAL = 1, CONTROL = 3, USER = 4;
const SPACE = BYTE_TO_CHAR[0x20]!; // "Ġ"

/**
 * Ids 0..255: the byte alphabet in byte order (id = byte). Then the merged tokens and three added tokens:
 * 256 "ab", 257 "ba", 258 "abc", 259 "Ġa", 260 "<|eot|>" (control), 261 "<|endoftext|>" (control), 262 "<x>" (user).
 */
function handMade(overrides: Partial<GgufVocabularyFields> = {}): GgufVocabularyFields {
  const tokens = [...BYTE_TO_CHAR, "ab", "ba", "abc", `${SPACE}a`, "<|eot|>", "<|endoftext|>", "<x>"];
  const tokenTypes = tokens.map((_, id) => (id === 260 || id === 261 ? CONTROL : id === 262 ? USER : NORMAL));
  return {
    model: "gpt2",
    pre: "gpt-2",
    tokens,
    tokenTypes,
    scores: undefined,
    merges: ["a b", "b a", "ab c", `${SPACE} a`],
    bosId: 261,
    eosId: 261,
    unknownId: undefined,
    eotId: 260,
    ...overrides,
  };
}

const bytes = (text: string): number[] => [...new TextEncoder().encode(text)];

test("the byte alphabet: printable bytes stand for themselves, the others for U+0100.. in byte order", () => {
  assert.equal(BYTE_TO_CHAR[0x41], "A");
  assert.equal(BYTE_TO_CHAR[0x20], "\u0120");
  assert.equal(BYTE_TO_CHAR[0x0a], "\u010a");
  assert.equal(new Set(BYTE_TO_CHAR).size, 256);
  assert.equal(toByteLevel("é "), "Ã©Ġ");
  assert.deepEqual([...fromByteLevel("Ã©Ġ")!], [0xc3, 0xa9, 0x20]);
  assert.equal(fromByteLevel("€"), undefined, "U+20AC is not in the alphabet");
});

test("merges apply by rank, leftmost first on ties (hand-worked)", () => {
  const tokenizer = tokenizerFromGgufVocabulary(handMade(), "hand.gguf");
  // "aba": "a b" (rank 0) beats "b a" (rank 1) -> [ab, a]; "bab": "a b" at position 1 beats "b a" at 0 -> [b, ab].
  assert.deepEqual([...tokenizer.encode("aba")], [256, 0x61]);
  assert.deepEqual([...tokenizer.encode("bab")], [0x62, 256]);
  // "abab": both "a b" pairs merge (rank 0, leftmost first), and "ab ab" is no merge.
  assert.deepEqual([...tokenizer.encode("abab")], [256, 256]);
  // "abc" merges twice; " a" is a GPT-2 word of its own and merges to "Ġa".
  assert.deepEqual([...tokenizer.encode("abc a")], [258, 259]);
  // Unmerged bytes stay single-byte tokens, including the bytes of a multi-byte character.
  assert.deepEqual([...tokenizer.encode("é")], bytes("é"));
});

test("ignore_merges (Llama 3): a word that is a token is taken whole", () => {
  // With merges "b c" only, "abc" would become [a, bc]; Llama 3's rule takes the token "abc" directly.
  const fields = handMade({ merges: ["b c"], tokens: [...handMade().tokens.slice(0, 256), "bc", "x", "abc", "y", "z", "w", "v"] });
  assert.deepEqual([...tokenizerFromGgufVocabulary(fields, "h.gguf").encode("abc")], [0x61, 256]);
  assert.deepEqual([...tokenizerFromGgufVocabulary({ ...fields, pre: "llama-bpe" }, "h.gguf").encode("abc", { addBos: false })], [258]);
});

test("control tokens are parsed only on request, user-defined tokens always", () => {
  const tokenizer = tokenizerFromGgufVocabulary(handMade(), "hand.gguf");
  const text = "a<|eot|><x>";
  assert.deepEqual([...tokenizer.encode(text, { parseSpecial: true })], [0x61, 260, 262]);
  const plain = [...tokenizer.encode(text)];
  assert.deepEqual(plain.slice(-1), [262], "<x> is cut out without special parsing too");
  assert.ok(!plain.includes(260), "<|eot|> stays text");
  assert.equal(tokenizer.decode(plain), text);
});

test("BOS/EOS: explicit options win, defaults follow add_bos_token/add_eos_token and llama.cpp", () => {
  const gpt2 = tokenizerFromGgufVocabulary(handMade(), "hand.gguf");
  assert.equal(gpt2.addsBos, false, "llama.cpp adds no BOS for gpt-2 by default");
  assert.deepEqual([...gpt2.encode("a", { addBos: true, addEos: true })], [261, 0x61, 261]);
  const llama3 = tokenizerFromGgufVocabulary(handMade({ pre: "llama-bpe" }), "hand.gguf");
  assert.equal(llama3.addsBos, true, "llama.cpp adds BOS for llama-bpe by default");
  const flags = tokenizerFromGgufVocabulary(handMade({ pre: "llama-bpe", addBos: false, addEos: true }), "hand.gguf");
  assert.deepEqual([...flags.encode("a")], [0x61, 261]);
});

test("end of generation: EOS, the end-of-turn id and the known end texts", () => {
  const tokenizer = tokenizerFromGgufVocabulary(handMade({ eosId: 258, eotId: 260 }), "hand.gguf");
  // 258 is EOS, 260 the named end of turn, 261 "<|endoftext|>" is recognised by its text.
  assert.deepEqual(tokenizer.endOfGenerationIds, [258, 260, 261]);
  assert.equal(tokenizer.isEndOfGeneration(260), true);
  assert.equal(tokenizer.isEndOfGeneration(0x61), false);
});

test("decoding: invalid UTF-8 from byte tokens becomes U+FFFD; streaming holds back incomplete characters", () => {
  const tokenizer = tokenizerFromGgufVocabulary(handMade(), "hand.gguf");
  assert.equal(tokenizer.decode([0xff, 0x61]), "\ufffda");
  assert.equal(tokenizer.decode([0xe2, 0x98]), "\ufffd", "a truncated 3-byte character");
  assert.equal(tokenizer.decode([0x61, 260, 262]), "a<x>", "control tokens decode to nothing");
  assert.equal(tokenizer.decode([0x61, 260], { special: true }), "a<|eot|>");
  const stream = tokenizer.createStreamDecoder();
  const snowman = bytes("☃");
  assert.deepEqual(snowman.map((id) => stream.push(id)), ["", "", "☃"]);
  assert.equal(stream.push(0xe2) + stream.flush(), "\ufffd");
  assert.throws(() => tokenizer.decode([9999]), /outside the vocabulary/);
  assert.equal(tokenizer.tokenText(259), `${SPACE}a`);
});

test("an unknown or missing pre-tokenizer is refused, naming the value and the supported list", () => {
  for (const pre of ["deepseek-llm", undefined]) {
    assert.throws(
      () => tokenizerFromGgufVocabulary(handMade({ pre }), "m.gguf"),
      (error: unknown) =>
        error instanceof UnsupportedError &&
        error.message.includes("m.gguf") &&
        error.message.includes(pre === undefined ? "missing" : `"${pre}"`) &&
        /"llama-bpe", "qwen2", "smollm", "gpt-2"/.test(error.message),
    );
  }
  assert.equal(preTokenizerFor("llama3", "m").name, "llama-bpe", "llama.cpp's alias");
  assert.throws(() => tokenizerFromGgufVocabulary(handMade({ model: "bert" }), "m.gguf"), /"bert" is not supported/);
});

test("broken byte-level vocabularies are clear file errors", () => {
  const bad: [Partial<GgufVocabularyFields>, RegExp][] = [
    [{ merges: undefined }, /merges is missing/],
    [{ merges: ["a q"] }, /merges\[0\] "a q"/],
    [{ merges: ["ab"] }, /merges\[0\] "ab" is not two tokens/],
    [{ tokens: handMade().tokens.slice(1), tokenTypes: undefined }, /no token for byte 0x00/],
    [{ eosId: 9999 }, /eos_token_id 9999 is outside/],
    [{ eosId: undefined, bosId: undefined }, /neither tokenizer.ggml.eos_token_id nor bos_token_id/],
  ];
  for (const [change, problem] of bad) {
    assert.throws(() => tokenizerFromGgufVocabulary(handMade(change), "v.gguf"), (error: unknown) => {
      return error instanceof FileFormatError && error.file === "v.gguf" && problem.test(error.message);
    }, problem.source);
  }
});

test("the pre-tokenizers cut words as their tokenizer.json regexes do (hand-checked)", () => {
  const llama3 = preTokenizerFor("llama-bpe", "m");
  assert.deepEqual(llama3.split("I'M 12345 ok!!\n\n  x"), ["I", "'M", " ", "123", "45", " ok", "!!\n\n", " ", " x"]);
  assert.deepEqual(preTokenizerFor("qwen2", "m").split("a 123"), ["a", " ", "1", "2", "3"]);
  assert.deepEqual(preTokenizerFor("gpt-2", "m").split("I'M 123   x "), ["I", "'", "M", " 123", "  ", " x", " "]);
  assert.deepEqual(preTokenizerFor("smollm", "m").split("a 123"), ["a", " ", "1", "2", "3"]);
  assert.equal(preTokenizerFor("qwen2", "m").normalization, "NFC");
});

test("MergeTable: first rank wins, absent pairs give -1, growth past many entries", () => {
  const table = new MergeTable(3);
  table.add(1, 2, 0);
  table.add(1, 2, 5);
  table.add(2, 1, 1);
  assert.equal(table.rankOf(1, 2), 0);
  assert.equal(table.rankOf(2, 1), 1);
  assert.equal(table.rankOf(3, 3), -1);
  const big = new MergeTable(100_000);
  for (let i = 0; i < 100_000; i++) big.add(i, 150_000 - i, i);
  for (let i = 0; i < 100_000; i += 997) assert.equal(big.rankOf(i, 150_000 - i), i);
  assert.equal(big.rankOf(5, 5), -1);
});
