// chatTokensOf on byte-level BPE vocabularies: the rendered template's control-token text becomes the control ids,
// BOS is never doubled nor lost, and every end-of-generation id stops a reply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chatTokensOf } from "../../src/chat/chatTokens.js";
import { tokenizerFromGgufVocabulary } from "../../src/tokenizer/loadTokenizer.js";
import { BYTE_TO_CHAR } from "../../src/tokenizer/byteLevelAlphabet.js";
import type { GgufVocabularyFields } from "../../src/tokenizer/Vocabulary.js";

/** Ids 0..255 the byte alphabet; 256 "<|bos|>", 257 "<|im_start|>", 258 "<|im_end|>" (control tokens). */
function chatVocabulary(pre: string): GgufVocabularyFields {
  const tokens = [...BYTE_TO_CHAR, "<|bos|>", "<|im_start|>", "<|im_end|>"];
  return {
    model: "gpt2",
    pre,
    tokens,
    tokenTypes: tokens.map((_, id) => (id >= 256 ? 3 : 1)),
    scores: undefined,
    merges: [],
    bosId: 256,
    eosId: 258,
    unknownId: undefined,
  };
}

test("control-token text in a rendered conversation becomes the control ids; the end of turn stops", () => {
  const chat = chatTokensOf(tokenizerFromGgufVocabulary(chatVocabulary("qwen2"), "chat.gguf"));
  assert.equal(chat.bosText, "<|bos|>");
  assert.equal(chat.eosText, "<|im_end|>");
  assert.deepEqual(chat.stopIds, [258]);
  assert.deepEqual([...chat.encode("<|im_start|>u\nhi<|im_end|>\n")], [257, 0x75, 0x0a, 0x68, 0x69, 258, 0x0a]);
});

test("BOS appears once: the tokenizer's when it adds one, else the template's own", () => {
  // llama-bpe adds BOS: the template's leading BOS text is dropped and the tokenizer's BOS kept.
  const adds = chatTokensOf(tokenizerFromGgufVocabulary(chatVocabulary("llama-bpe"), "chat.gguf"));
  assert.deepEqual([...adds.encode("<|bos|>a")], [256, 0x61]);
  assert.deepEqual([...adds.encode("a")], [256, 0x61]);
  // qwen2 adds none: a template that writes BOS keeps it, one that does not gets none.
  const keeps = chatTokensOf(tokenizerFromGgufVocabulary(chatVocabulary("qwen2"), "chat.gguf"));
  assert.deepEqual([...keeps.encode("<|bos|>a")], [256, 0x61]);
  assert.deepEqual([...keeps.encode("a")], [0x61]);
});
