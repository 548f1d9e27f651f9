import type { ReportingCache } from "../cache/CacheReportView.js";
import type { KVCacheConfig } from "../cache/spec.js";
import { ContextOverflowError } from "../util/errors.js";
import type { Engine } from "./Engine.js";
import type { BatchSegment, LlamaModel } from "../model/llama.js";
import type { ModelConfig } from "../model/config.js";

export interface SessionOptions {
  /** positions the session may hold: at most the model's context (default: the model's context) */
  readonly capacity?: number;
}

/**
 * One sequence being run: an engine, a KV cache and the position reached. Every caller (generate, chat, perplexity,
 * the eval tasks, the benches) feeds tokens through here instead of calling the model's forward pass itself, so
 * positions, the context limit and rollback live in one place.
 *
 * Each feeding method is one or more forward calls, and each forward call ends with one `cache.endForward`: that is
 * where QAQ's prompt mode and prompt compression quantize "the prompt", and where streaming caches re-plan. So the
 * way tokens are split into calls is part of the result, and the methods say exactly how they split:
 *   prefill(tokens)        one call (the model blocks it internally in matrix-matrix products of up to 64 tokens)
 *   prefill(tokens, n)     one call per n tokens
 *   score(tokens, n, ...)  one call per n tokens, with the logits of every position
 *   step(id)               one call of one token (decode)
 * The logits returned are a view valid until the next call.
 */
/**
 * What a session drives: a model and its config. An Engine is one; the compatibility check's probe builds a bare
 * model (its control runs a deliberately altered config that no Engine would load) and still feeds it through here.
 */
export interface SessionModel {
  readonly config: ModelConfig;
  readonly model: LlamaModel;
}

export class Session<E extends SessionModel = Engine> {
  readonly capacity: number;
  /** ids fed so far, position by position (grows by doubling) */
  private fedIds = new Int32Array(64);
  private fedCount = 0;
  private readonly one = new Int32Array(1);
  private ownsCache = false;
  /** first position of a forward call being fed over several batched passes (batchFeeds.ts), else undefined */
  private openCallStart: number | undefined;

  /** A session on a new cache of `config`, sized to `capacity` positions; `dispose` frees the cache. */
  static open(engine: Engine, config: KVCacheConfig, capacity = engine.config.seqLen): Session {
    const limit = Math.min(capacity, engine.config.seqLen);
    const session = new Session(engine, engine.createCache(config, limit), { capacity: limit });
    session.ownsCache = true;
    return session;
  }

  constructor(
    readonly engine: E,
    readonly cache: ReportingCache,
    options: SessionOptions = {},
  ) {
    const { seqLen } = engine.config;
    this.capacity = Math.min(seqLen, options.capacity ?? seqLen);
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError(`session capacity must be an integer >= 1, got ${options.capacity}`);
    // a session starts at position 0 and knows every id it fed: a cache that already holds tokens starts over
    if (cache.nextPos !== 0) cache.reset();
  }

  /**
   * Whether rollBack keeps the prefix: the cache states it (KVCache.rollback); when it cannot roll back exactly,
   * rollBack empties the cache and the caller feeds the kept prefix again.
   */
  get exactRollback(): boolean {
    return this.cache.rollback.kind === "exact";
  }

  /** The next position to be fed (= tokens fed so far). */
  get position(): number {
    return this.fedCount;
  }

  /** Positions left before the capacity is reached. */
  get remaining(): number {
    return this.capacity - this.fedCount;
  }

  /** A copy of the ids fed so far. */
  history(): Int32Array {
    return this.fedIds.slice(0, this.fedCount);
  }

  /** Feeds `tokens` in calls of at most `blockTokens` (default: one call); returns the logits of the last token. */
  prefill(tokens: Int32Array, blockTokens = tokens.length): Float32Array {
    if (tokens.length === 0) throw new RangeError("prefill needs at least one token");
    let logits: Float32Array | undefined;
    for (let start = 0; start < tokens.length; start += blockTokens) {
      logits = this.forward(tokens.subarray(start, Math.min(tokens.length, start + blockTokens)), "last");
    }
    return logits!;
  }

  /**
   * Feeds `tokens` in calls of at most `blockTokens` and hands the logits of every position to `onRow(i, logits)`
   * (i indexes `tokens`; the logits predict the token after tokens[i]), in order, before the next call.
   */
  score(tokens: Int32Array, blockTokens: number, onRow: (i: number, logits: Float32Array) => void): void {
    const vocab = this.engine.config.vocabSize;
    for (let start = 0; start < tokens.length; start += blockTokens) {
      const chunk = tokens.subarray(start, Math.min(tokens.length, start + blockTokens));
      // [chunk.length, vocab]
      const logits = this.forward(chunk, "all");
      for (let i = 0; i < chunk.length; i++) onRow(start + i, logits.subarray(i * vocab, (i + 1) * vocab));
    }
  }

  /** Feeds one token (a decode step); returns its logits. */
  step(id: number): Float32Array {
    this.one[0] = id;
    return this.forward(this.one, "last");
  }

  /**
   * Goes back to `position` (dropping every later token). Returns the position actually kept: `position` when the
   * cache rolls back exactly, else 0 (the cache is emptied, and the caller feeds the prefix it wants again).
   */
  rollBack(position: number): number {
    if (!Number.isInteger(position) || position < 0 || position > this.fedCount) {
      throw new RangeError(`rollBack: position ${position} is outside 0..${this.fedCount}`);
    }
    if (position === this.fedCount) return position;
    const rollback = this.cache.rollback;
    if (rollback.kind !== "exact" || position === 0) {
      this.reset();
      return 0;
    }
    rollback.truncate(position);
    this.fedCount = position;
    return position;
  }

  /** Empties the cache: the next token goes to position 0. */
  reset(): void {
    this.cache.reset();
    this.fedCount = 0;
    this.openCallStart = undefined;
  }

  /**
   * For a batched pass (engine/batchFeeds.ts): the segment that feeds `tokens` at this session's position, checked
   * against the capacity, without feeding them; `fedInPass` records them once the pass ran. A forward call may span
   * several passes (a prompt fed in chunks): it begins at the first segment after the previous call ended and ends
   * with the segment made with `endsCall` (which gets the cache's endForward and, unless `logits` is false, the last
   * token's logits: only an ending segment may have them), so
   * the cache sees the same calls as when the tokens go through `prefill` or `step`.
   */
  segmentFor(tokens: Int32Array, endsCall: boolean, logits = endsCall): BatchSegment {
    if (tokens.length === 0) throw new RangeError("a batched feed needs at least one token");
    const pos = this.fedCount;
    if (pos + tokens.length > this.capacity) throw new ContextOverflowError(pos + tokens.length, this.capacity, "session context");
    if (logits && !endsCall) throw new RangeError("only a segment that ends its forward call gets logits");
    const firstPos = this.openCallStart ?? pos;
    return {
      tokens,
      pos0: pos,
      cache: this.cache,
      logits: logits ? "last" : "none",
      ...(endsCall ? { endForward: { firstPos, nTok: pos + tokens.length - firstPos } } : {}),
    };
  }

  /** Records the tokens of a segment from `segmentFor` once its pass has run. */
  fedInPass(segment: BatchSegment): void {
    if (segment.pos0 !== this.fedCount) throw new RangeError(`fedInPass: segment at ${segment.pos0}, session at ${this.fedCount}`);
    if (this.openCallStart === undefined) this.openCallStart = segment.pos0;
    if (segment.endForward) this.openCallStart = undefined;
    this.remember(segment.tokens);
  }

  /** Frees the cache when the session created it (Session.open); a cache passed in stays the caller's. */
  dispose(): void {
    if (this.ownsCache) this.cache.dispose();
  }

  private forward(tokens: Int32Array, wanted: "last" | "all"): Float32Array {
    const pos = this.fedCount;
    if (this.openCallStart !== undefined) throw new RangeError("a batched forward call is still open on this session");
    if (pos + tokens.length > this.capacity) throw new ContextOverflowError(pos + tokens.length, this.capacity, "session context");
    let logits: Float32Array;
    try {
      logits = this.engine.model.forward(tokens, pos, this.cache, wanted);
    } catch (error) {
      // the cache may hold part of the failed call: start over rather than keep a state nobody can describe
      this.reset();
      throw error;
    }
    this.remember(tokens);
    return logits;
  }

  private remember(tokens: Int32Array): void {
    const needed = this.fedCount + tokens.length;
    if (needed > this.fedIds.length) {
      const grown = new Int32Array(Math.max(needed, this.fedIds.length * 2));
      grown.set(this.fedIds.subarray(0, this.fedCount));
      this.fedIds = grown;
    }
    this.fedIds.set(tokens, this.fedCount);
    this.fedCount = needed;
  }
}

/** Length of the common prefix of two id sequences. */
export function commonPrefixLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
