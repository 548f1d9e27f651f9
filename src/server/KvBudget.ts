/**
 * `qaq serve --kv-budget`: one cap on the hot KV bytes (nbytes().hot: what the stored tokens occupy, measured from
 * the allocated buffers) of all sessions together.
 *
 * Every admitted request reserves what its conversation can need at its last position (prompt + max_tokens, at most
 * the context): a request whose need exceeds the whole budget is refused (503, naming both figures); one that does
 * not fit beside the reservations of the requests generating now waits in the queue, oldest first, until enough is
 * released. What a request needs depends on the cache:
 *   fixed caches (fp32, fp16, blockq, kivi, uniform, h2o, streaming): their bytes depend only on the token count, so
 *     a probe cache of the same spec is filled with synthetic K/V when the server starts, and the need at T tokens
 *     is the largest nbytes().hot it measured up to T (read at every `PROBE_STEP` tokens, rounded up to the next).
 *   qaq (stream mode): the cache shrinks to make room. The need is QAQ's cheapest allocation at T tokens (min bits
 *     everywhere, QaqCache.cheapestBytes: the exact hot bytes of that allocation); before every scheduler step the
 *     whole budget is divided among the QAQ sessions fed in the step (`share`; a session that waits keeps what it
 *     holds): each gets its cheapest allocation at its position after the step, and what remains goes in proportion
 *     to their tokens (so all of them compress at about the same ratio against fp16), and plans its widths to fit
 *     its share at the end of the step (its prompt goes in as calls of one chunk each, each planned). As sessions
 *     come and go the
 *     shares are re-divided: a newcomer makes the others re-quantize narrower, a departure lets them widen again.
 * Reservations are upper bounds, so the measured total never exceeds the budget after a step.
 */
import type { KVCacheConfig } from "../cache/spec.js";
import type { ReportingCache } from "../cache/CacheReportView.js";
import { QaqCache } from "../cache/qaq/QaqCache.js";
import type { Engine } from "../engine/Engine.js";
import { ConfigError } from "../util/errors.js";

/** Positions between two reads of the probe cache's bytes. */
const PROBE_STEP = 16;

/**
 * A session in one step: its cache, the positions it holds after the step, and whether it is fed in the step (only
 * then does it plan its widths again; one that waits keeps the bytes it holds).
 */
export interface BudgetShareInput {
  readonly cache: ReportingCache;
  readonly positionsAfterStep: number;
  readonly fed: boolean;
}

export class KvBudget {
  private reserved = 0;

  private constructor(
    readonly totalBytes: number,
    /** what a conversation reaching T positions needs, T = 0..capacity */
    private readonly needAt: Float64Array,
    /** bytes of one token of K and V in fp16 (the shares' proportion) */
    private readonly fp16BytesPerToken: number,
    readonly mode: "reserve" | "shrink",
    readonly spec: string,
  ) {}

  /** Measures what the spec needs per position (see above); refuses a budget that cannot hold one full conversation. */
  static create(engine: Engine, kv: KVCacheConfig, capacity: number, totalBytes: number): KvBudget {
    if (!(Number.isSafeInteger(totalBytes) && totalBytes >= 1)) throw new ConfigError("kv-budget", "a size >= 1 byte", totalBytes);
    if (kv.kind === "qaq" && kv.budget !== null) throw new ConfigError("kv", "a qaq spec without budget= or ratio= (--kv-budget sets the budget and shares it among the sessions)", "qaq with budget");
    if (kv.kind === "qaq" && kv.mode !== "stream") throw new ConfigError("kv", "qaq with mode=stream for --kv-budget (in prompt mode the generated tokens stay in fp16, so no budget holds)", "qaq:mode=prompt");
    const probe = engine.createCache(kv, capacity);
    let needAt: Float64Array;
    try {
      needAt = probe instanceof QaqCache ? cheapestTable(probe, capacity) : measuredTable(engine, probe, capacity);
    } finally {
      probe.dispose();
    }
    const { nLayers, nKvHeads, headDim } = engine.config;
    const budget = new KvBudget(totalBytes, needAt, 2 * 2 * nLayers * nKvHeads * headDim, kv.kind === "qaq" ? "shrink" : "reserve", probe.spec);
    if (needAt[1]! > totalBytes) {
      throw new ConfigError("kv-budget", `at least ${needAt[1]} bytes: the first positions of a ${probe.spec} cache take that much (a ${capacity}-position conversation: ${needAt[capacity]})`, totalBytes);
    }
    return budget;
  }

  /** Bytes reserved by the requests generating now. */
  get reservedBytes(): number {
    return this.reserved;
  }

  /** What a conversation that reaches `positions` positions needs (see the file comment). */
  need(positions: number): number {
    return this.needAt[Math.max(0, Math.min(this.needAt.length - 1, positions))]!;
  }

  /** Whether a need fits beside the current reservations. */
  fits(need: number): boolean {
    return this.reserved + need <= this.totalBytes;
  }

  reserve(need: number): void {
    this.reserved += need;
  }

  release(need: number): void {
    this.reserved = Math.max(0, this.reserved - need);
  }

  /**
   * Divides the budget among the QAQ sessions for the coming step: each its cheapest allocation at its positions
   * after the step, the rest in proportion to those positions (the same compression ratio for all, where the floors
   * allow). Σ shares = totalBytes; each share is feasible because admission kept Σ needs ≤ totalBytes.
   */
  share(sessions: readonly BudgetShareInput[]): void {
    if (this.mode !== "shrink") return;
    // a session that waits this step (a prompt behind another in the prefill budget) keeps what it holds
    const held = sessions.reduce((sum, s) => sum + (s.fed ? 0 : s.cache.nbytes().hot), 0);
    const planning = sessions.filter((s) => s.fed);
    if (planning.length === 0) return;
    const floors = planning.map((s) => this.need(s.positionsAfterStep));
    const spare = Math.max(0, this.totalBytes - held - floors.reduce((a, b) => a + b, 0));
    const tokens = planning.reduce((sum, s) => sum + s.positionsAfterStep, 0);
    planning.forEach((s, i) => {
      const extra = tokens > 0 ? Math.floor((spare * s.positionsAfterStep) / tokens) : Math.floor(spare / planning.length);
      if (s.cache instanceof QaqCache) s.cache.setBudgetBytes(floors[i]! + extra);
    });
  }

  /** fp16 bytes of `tokens` positions (for reports). */
  fp16Bytes(tokens: number): number {
    return tokens * this.fp16BytesPerToken;
  }
}

/** QAQ: the cheapest allocation's exact hot bytes at every token count. */
function cheapestTable(cache: QaqCache, capacity: number): Float64Array {
  const table = new Float64Array(capacity + 1);
  for (let t = 1; t <= capacity; t++) table[t] = Math.max(table[t - 1]!, cache.cheapestBytes(t));
  return table;
}

/**
 * A fixed cache: filled PROBE_STEP tokens at a time with synthetic K/V (seeded, unit-scale values) up to the
 * capacity, nbytes().hot read after each step; the need at T is the largest reading at or before the first reading
 * at ≥ T positions (a running maximum, so it never decreases with T).
 */
function measuredTable(engine: Engine, cache: ReportingCache, capacity: number): Float64Array {
  const { nLayers, nKvHeads, headDim } = engine.config;
  const kvDim = nKvHeads * headDim;
  const heap = engine.compute.heap;
  const region = heap.alloc(2 * PROBE_STEP * kvDim * 4, "kv-budget probe K/V");
  try {
    const k = heap.f32(region, 0, PROBE_STEP * kvDim);
    const v = heap.f32(region, PROBE_STEP * kvDim * 4, PROBE_STEP * kvDim);
    let seed = 12345;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 31 - 1; // in [-1, 1)
    };
    const table = new Float64Array(capacity + 1);
    let pos = 0;
    let largest = 0;
    while (pos < capacity) {
      const n = Math.min(PROBE_STEP, capacity - pos);
      for (let i = 0; i < n * kvDim; i++) {
        k[i] = next();
        v[i] = next();
      }
      for (let l = 0; l < nLayers; l++) cache.append(l, pos, n, k.subarray(0, n * kvDim), v.subarray(0, n * kvDim));
      cache.endForward(pos, n);
      largest = Math.max(largest, cache.nbytes().hot);
      for (let t = pos + 1; t <= pos + n; t++) table[t] = largest;
      pos += n;
    }
    return table;
  } finally {
    heap.free(region);
  }
}
