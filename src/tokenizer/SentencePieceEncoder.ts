/**
 * Text -> token ids with llama2.c's SentencePiece BPE semantics:
 *   1. a non-empty text gets the dummy-prefix space in front;
 *   2. each code point that is a piece becomes that piece; any other code point becomes one byte piece per UTF-8
 *      byte (byte fallback) or, in a vocabulary without byte fallback, the unknown piece;
 *   3. repeatedly, the adjacent pair whose concatenated text is a piece with the highest score is merged (on equal
 *      scores the leftmost pair), until no adjacent pair forms a piece.
 * llama2.c rescans the whole sequence for every merge (quadratic); here the candidate pairs wait in a priority queue
 * and the symbols form a linked list, which makes the same merges in O(n log n).
 *
 * Only normal and user pieces can be produced from text: control, unknown, unused and byte pieces never match.
 */
import { UnsupportedError } from "../util/errors.js";
import { MergeQueue } from "./MergeQueue.js";
import type { Vocabulary } from "./Vocabulary.js";

const DUMMY_PREFIX = 0x20;
const REPLACEMENT_CHARACTER = 0xfffd;

export class SentencePieceEncoder {
  /** Text -> id of the normal and user pieces, the only ones text may turn into. */
  private readonly textPieceIds = new Map<string, number>();
  /** Code point -> id of the single-code-point text pieces (the starting symbols). */
  private readonly codePointIds = new Map<number, number>();

  constructor(private readonly vocabulary: Vocabulary) {
    vocabulary.pieces.forEach((piece, id) => {
      const type = vocabulary.types[id];
      if ((type !== "normal" && type !== "user") || this.textPieceIds.has(piece)) return;
      this.textPieceIds.set(piece, id);
      const codePoint = piece.codePointAt(0);
      if (codePoint !== undefined && piece.length === (codePoint > 0xffff ? 2 : 1)) this.codePointIds.set(codePoint, id);
    });
  }

  /**
   * The ids of one stretch of text (no BOS/EOS). `dummyPrefix` puts the space in front (rule 1); llama.cpp adds it
   * at the start of the text and after each special token, not to text that follows other text.
   */
  encode(text: string, dummyPrefix = true): Int32Array {
    const { symbols, count } = this.initialSymbols(text, dummyPrefix);
    return this.mergePairs(symbols, count);
  }

  /** The symbols before any merge: one per code point, or one per UTF-8 byte for code points without a piece. */
  private initialSymbols(text: string, dummyPrefix: boolean): { symbols: Int32Array; count: number } {
    // Shape [1 + 3 * text.length]: the dummy prefix, then at most 3 UTF-8 bytes per UTF-16 unit.
    const symbols = new Int32Array(text.length === 0 ? 0 : 1 + 3 * text.length);
    if (text.length === 0) return { symbols, count: 0 };
    let count = dummyPrefix ? this.appendCodePoint(DUMMY_PREFIX, symbols, 0) : 0;
    for (let i = 0; i < text.length; ) {
      const codePoint = text.codePointAt(i)!;
      i += codePoint > 0xffff ? 2 : 1;
      count = this.appendCodePoint(codePoint, symbols, count);
    }
    return { symbols, count };
  }

  /** Writes the symbol(s) for one code point at `count`; returns the new count. */
  private appendCodePoint(codePoint: number, symbols: Int32Array, count: number): number {
    const id = this.codePointIds.get(codePoint);
    if (id !== undefined) {
      symbols[count] = id;
      return count + 1;
    }
    const vocabulary = this.vocabulary;
    if (vocabulary.hasByteFallback) {
      for (const byte of utf8Bytes(codePoint)) symbols[count++] = vocabulary.byteIds[byte]!;
      return count;
    }
    if (vocabulary.unknownId === undefined) {
      const hex = codePoint.toString(16).toUpperCase().padStart(4, "0");
      throw new UnsupportedError(
        `character U+${hex} is not in the vocabulary, which has neither byte fallback nor an unknown piece`,
      );
    }
    symbols[count] = vocabulary.unknownId;
    return count + 1;
  }

  /** Merges in place and returns the surviving ids in order. */
  private mergePairs(symbols: Int32Array, count: number): Int32Array {
    if (count < 2) return symbols.slice(0, count);
    // Doubly linked list over symbol slots; a merge keeps the left slot, so slot order is text order. Shape [count].
    const next = new Int32Array(count);
    const prev = new Int32Array(count);
    // Bumped whenever a slot's symbol changes or dies, which makes queued candidates that name it stale. Shape [count].
    const versions = new Int32Array(count);
    for (let slot = 0; slot < count; slot++) {
      next[slot] = slot + 1 < count ? slot + 1 : -1;
      prev[slot] = slot - 1;
    }
    const queue = new MergeQueue(2 * count);
    for (let slot = 0; slot + 1 < count; slot++) this.queuePair(queue, symbols, versions, slot, slot + 1);

    for (let candidate = queue.pop(); candidate !== undefined; candidate = queue.pop()) {
      const { left, right } = candidate;
      if (versions[left] !== candidate.leftVersion || versions[right] !== candidate.rightVersion) continue;
      symbols[left] = candidate.mergedId;
      versions[left]!++;
      versions[right]!++;
      const after = next[right]!;
      next[left] = after;
      if (after >= 0) prev[after] = left;
      if (prev[left]! >= 0) this.queuePair(queue, symbols, versions, prev[left]!, left);
      if (after >= 0) this.queuePair(queue, symbols, versions, left, after);
    }

    const merged: number[] = [];
    for (let slot = 0; slot >= 0; slot = next[slot]!) merged.push(symbols[slot]!);
    return Int32Array.from(merged);
  }

  private queuePair(queue: MergeQueue, symbols: Int32Array, versions: Int32Array, left: number, right: number): void {
    const pieces = this.vocabulary.pieces;
    const mergedId = this.textPieceIds.get(pieces[symbols[left]!]! + pieces[symbols[right]!]!);
    if (mergedId === undefined) return;
    queue.push(this.vocabulary.scores[mergedId]!, left, right, versions[left]!, versions[right]!, mergedId);
  }
}

/** UTF-8 bytes of one code point; a lone surrogate (not encodable) becomes U+FFFD, as TextEncoder does. */
function utf8Bytes(codePoint: number): number[] {
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) codePoint = REPLACEMENT_CHARACTER;
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint < 0x10000) {
    return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  }
  return [
    0xf0 | (codePoint >> 18),
    0x80 | ((codePoint >> 12) & 0x3f),
    0x80 | ((codePoint >> 6) & 0x3f),
    0x80 | (codePoint & 0x3f),
  ];
}
