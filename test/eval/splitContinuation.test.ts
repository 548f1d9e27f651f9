import { test } from "node:test";
import assert from "node:assert/strict";
import { splitContextContinuation } from "../../src/eval/choice/splitContinuation.js";
import { tokenizerFromLlama2cFile } from "../../src/tokenizer/loadTokenizer.js";
import { BUNDLED_TOKENIZER } from "../support/paths.js";

/** A stand-in tokenizer: one id per character (its code), so every boundary is visible. */
const charIds = (text: string) => Int32Array.from([...text].map((c) => c.codePointAt(0)!));
const text = (ids: Int32Array) => String.fromCodePoint(...ids);

test("a trailing space of the context moves to the front of the continuation", () => {
  const { context, continuation } = splitContextContinuation(charIds, "Question: why?\nAnswer: ", "yes");
  assert.equal(text(context), "Question: why?\nAnswer:");
  assert.equal(text(continuation), " yes");
});

test("all trailing whitespace moves, and a context without any is untouched", () => {
  const moved = splitContextContinuation(charIds, "ctx \t ", "x");
  assert.equal(text(moved.context), "ctx");
  assert.equal(text(moved.continuation), " \t x");
  const kept = splitContextContinuation(charIds, "ctx", " x");
  assert.equal(text(kept.context), "ctx");
  assert.equal(text(kept.continuation), " x");
});

test("the continuation is the whole encoding after the context's own token count (lm-eval's rule)", () => {
  // A tokenizer that merges "ab" into one token when both sit together: the boundary merge goes to the continuation
  // side as whole[len(context):], exactly as lm-eval slices it.
  const merging = (s: string) => {
    const ids: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (s[i] === "a" && s[i + 1] === "b") {
        ids.push(1000);
        i++;
      } else ids.push(s.charCodeAt(i));
    }
    return Int32Array.from(ids);
  };
  const { context, continuation } = splitContextContinuation(merging, "xa", "by");
  assert.deepEqual([...context], ["x".charCodeAt(0), "a".charCodeAt(0)]);
  // whole = [x, ab, y]; context had 2 tokens, so the continuation is [y]
  assert.deepEqual([...continuation], ["y".charCodeAt(0)]);
});

test("with the SentencePiece tokenizer the split equals encoding the pieces in running text", () => {
  const tokenizer = tokenizerFromLlama2cFile(BUNDLED_TOKENIZER);
  const encode = (s: string) => tokenizer.encode(s, { addBos: true });
  const { context, continuation } = splitContextContinuation(encode, "Question: Where is the cat?\nAnswer: ", "in the box");
  const whole = encode("Question: Where is the cat?\nAnswer: in the box");
  assert.deepEqual([...context, ...continuation], [...whole]);
  assert.deepEqual([...context], [...encode("Question: Where is the cat?\nAnswer:")]);
  assert.equal(context[0], tokenizer.bosId);
  assert.ok(tokenizer.decode(continuation).includes("in the box"));
});
