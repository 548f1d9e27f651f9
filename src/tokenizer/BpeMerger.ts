/**
 * Byte-level BPE on one word: start from one symbol per byte (its alphabet character's token), then repeatedly
 * merge the adjacent pair with the lowest merge rank, the leftmost on ties, until no adjacent pair has a merge.
 * That is the rule of Hugging Face `tokenizers` and llama.cpp. The pairs wait in a priority queue and the symbols
 * form a linked list, so a word of n bytes takes O(n log n) rather than the O(n^2) of rescanning after each merge;
 * words seen before come from a cache.
 */
import { BYTE_TO_CHAR } from "./byteLevelAlphabet.js";
import { MergeQueue } from "./MergeQueue.js";
import type { BpeVocabulary } from "./BpeVocabulary.js";

/** Words up to this many bytes are cached (long runs of spaces or digits are rare and would bloat the cache). */
const MAX_CACHED_WORD_BYTES = 64;
/** The cache is emptied when it reaches this many words, which bounds its memory (~ a few MB). */
const MAX_CACHED_WORDS = 50_000;

// A lone surrogate becomes U+FFFD's bytes, as everywhere else in the engine.
const utf8 = new TextEncoder();

export class BpeMerger {
  private readonly cache = new Map<string, Int32Array>();

  constructor(
    private readonly vocabulary: BpeVocabulary,
    /** Llama 3's ignore_merges: a word that is itself a token is that token, whatever the merges would give. */
    private readonly wholeWordFirst: boolean,
  ) {}

  /** The ids of one word (a pre-tokenizer output). */
  mergeWord(word: string): Int32Array {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const bytes = utf8.encode(word);
    let ids: Int32Array | undefined;
    if (this.wholeWordFirst) {
      let text = "";
      for (const byte of bytes) text += BYTE_TO_CHAR[byte]!;
      const whole = this.vocabulary.tokenIds.get(text);
      if (whole !== undefined) ids = Int32Array.of(whole);
    }
    ids ??= this.merge(bytes);
    if (bytes.length <= MAX_CACHED_WORD_BYTES) {
      if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
      this.cache.set(word, ids);
    }
    return ids;
  }

  private merge(bytes: Uint8Array): Int32Array {
    const count = bytes.length;
    // Symbol per slot, linked list over slots, and a version per slot that makes queued pairs naming it stale once
    // it changes. Shape [count] each; a merge keeps the left slot, so slot order is text order.
    const symbols = Int32Array.from(bytes, (byte) => this.vocabulary.byteTokenIds[byte]!);
    if (count < 2) return symbols;
    const next = new Int32Array(count);
    const prev = new Int32Array(count);
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
    const rank = this.vocabulary.mergeRanks.rankOf(symbols[left]!, symbols[right]!);
    if (rank < 0) return;
    // The queue pops the highest score first and the leftmost pair among equals: score = -rank.
    queue.push(-rank, left, right, versions[left]!, versions[right]!, this.vocabulary.mergedIds[rank]!);
  }
}
