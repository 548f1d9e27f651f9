// The priority-queue encoder against a literal transcription of llama2.c's quadratic encode() (written here, in the
// test, as the independent oracle), on the real tok512 vocabulary and on a synthetic vocabulary full of score ties.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tokenizerFromLlama2cFile } from "../../src/tokenizer/loadTokenizer.js";
import { SentencePieceTokenizer } from "../../src/tokenizer/SentencePieceTokenizer.js";
import { vocabularyFromLlama2c } from "../../src/tokenizer/Vocabulary.js";
import { missingSharedReason, tok512Path, tinyStoriesPath } from "./sharedFiles.js";

/**
 * llama2.c run.c encode(): BOS, dummy prefix " ", code points or (byte + 3) fallback, then repeatedly merge the
 * best-scoring pair found by a full left-to-right scan with a strict ">" (so the leftmost of equal scores wins).
 */
function encodeLikeLlama2c(pieces: readonly string[], scores: ArrayLike<number>, text: string): number[] {
  const lookup = new Map<string, number>();
  pieces.forEach((piece, id) => {
    if (!lookup.has(piece)) lookup.set(piece, id);
  });
  const tokens = [1];
  if (text.length > 0) tokens.push(lookup.get(" ")!);
  for (const character of text) {
    const id = lookup.get(character);
    if (id !== undefined) tokens.push(id);
    else for (const byte of new TextEncoder().encode(character)) tokens.push(byte + 3);
  }
  for (;;) {
    let bestScore = -1e10;
    let bestId = -1;
    let bestIndex = -1;
    for (let i = 0; i < tokens.length - 1; i++) {
      const id = lookup.get(pieces[tokens[i]!]! + pieces[tokens[i + 1]!]!);
      if (id !== undefined && scores[id]! > bestScore) {
        bestScore = scores[id]!;
        bestId = id;
        bestIndex = i;
      }
    }
    if (bestIndex === -1) return tokens;
    tokens.splice(bestIndex, 2, bestId);
  }
}

/** A seeded generator (32-bit LCG) so failures reproduce. */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomText(random: () => number, alphabet: readonly string[], length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

/** llama2.c layout (unk, BOS, EOS, 256 bytes) followed by every string over {" ", a, b} of length 1..4. */
function tieHeavyVocabulary(random: () => number): { pieces: string[]; scores: number[] } {
  const pieces = ["<unk>", "<s>", "</s>"];
  for (let byte = 0; byte < 256; byte++) pieces.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
  let layer = [""];
  for (let length = 1; length <= 4; length++) {
    layer = layer.flatMap((prefix) => [" ", "a", "b"].map((letter) => prefix + letter));
    pieces.push(...layer);
  }
  // Only three distinct scores, so most comparisons are ties.
  const scores = pieces.map((_, id) => (id < 259 ? 0 : -Math.floor(random() * 3)));
  return { pieces, scores };
}

test("equal scores: the leftmost pair merges first (hand-worked)", () => {
  // Text "aba" -> [" ", a, b, a]; "ab" and "ba" are both pieces with the same score. Leftmost first gives
  // [" ", ab, a] ("aba" and " ab" are not pieces); rightmost first would give [" ", a, ba].
  const pieces = ["<unk>", "<s>", "</s>", " ", "a", "b", "ab", "ba"];
  const tokenizer = new SentencePieceTokenizer(vocabularyFromLlama2c(pieces, [0, 0, 0, -1, -1, -1, -5, -5], "tiny"));
  assert.deepEqual([...tokenizer.encode("aba", { addBos: true })], [1, 3, 6, 4]);
});

test("higher score wins over position (hand-worked)", () => {
  // Same text; "ba" now scores higher, so it merges first although "ab" is further left.
  const pieces = ["<unk>", "<s>", "</s>", " ", "a", "b", "ab", "ba"];
  const tokenizer = new SentencePieceTokenizer(vocabularyFromLlama2c(pieces, [0, 0, 0, -1, -1, -1, -5, -4], "tiny"));
  assert.deepEqual([...tokenizer.encode("aba", { addBos: true })], [1, 3, 4, 7]);
});

test("matches llama2.c's scan on a vocabulary full of score ties", () => {
  const random = makeRandom(12345);
  const { pieces, scores } = tieHeavyVocabulary(random);
  const tokenizer = new SentencePieceTokenizer(vocabularyFromLlama2c(pieces, scores, "ties"));
  for (let trial = 0; trial < 300; trial++) {
    const text = randomText(random, [" ", "a", "b", "c", "é"], 1 + Math.floor(random() * 60));
    assert.deepEqual([...tokenizer.encode(text, { addBos: true })], encodeLikeLlama2c(pieces, scores, text), JSON.stringify(text));
  }
});

test("matches llama2.c's scan on tok512 for TinyStories text and random characters", { skip: missingSharedReason }, () => {
  const tokenizer = tokenizerFromLlama2cFile(tok512Path);
  const { pieces, scores } = tokenizer.vocabulary;
  const story = readFileSync(tinyStoriesPath, "utf8").slice(0, 6000);
  for (let start = 0; start < story.length; start += 400) {
    const text = story.slice(start, start + 400);
    assert.deepEqual([...tokenizer.encode(text, { addBos: true })], encodeLikeLlama2c(pieces, scores, text));
  }
  const random = makeRandom(777);
  const alphabet = [..."the cat sat on a mat.,!?\n\"'0123456789", "é", "ü", "☃", "中", "🦊", "\u2581"];
  for (let trial = 0; trial < 100; trial++) {
    const text = randomText(random, alphabet, Math.floor(random() * 80));
    assert.deepEqual([...tokenizer.encode(text, { addBos: true })], encodeLikeLlama2c(pieces, scores, text), JSON.stringify(text));
  }
});
