/**
 * Which kept tokens an eviction cache drops, as pure functions of the slots' positions (and accumulated attention).
 * A rule sees one KV head's slots [0, count): positions[s] is the position of the token in slot s, scores[s] its
 * accumulated attention (H2O only). `end` is the position after the current forward pass (its newest token + 1).
 *
 * - H2O (Zhang et al. 2023): the `recent` newest positions ([end − recent, end)) are never evicted; among the rest
 *   the victim is the token with the lowest accumulated attention, ties broken by the older position.
 * - StreamingLLM (Xiao et al. 2023): positions 0..sinks−1 (the attention sinks) are never evicted; among the rest
 *   the victim is the oldest, so the cache keeps the sinks and the most recent budget − sinks tokens.
 */
export interface EvictionRule {
  /** true when the rule ranks tokens by attention accumulated through observe() */
  readonly accumulatesAttention: boolean;
  /** Number of slots of [0, count) the rule may evict. */
  evictable(positions: Int32Array, count: number, end: number): number;
  /** Up to k victims among slots [0, count), most evictable first. */
  choose(positions: Int32Array, scores: Float32Array | null, count: number, k: number, end: number): number[];
}

export function heavyHitterRule(recent: number): EvictionRule {
  const isCandidate = (positions: Int32Array, s: number, end: number) => positions[s]! < end - recent;
  return {
    accumulatesAttention: true,
    evictable: (positions, count, end) => countWhere(count, (s) => isCandidate(positions, s, end)),
    choose: (positions, scores, count, k, end) =>
      pickLowest(count, k, (s) => isCandidate(positions, s, end), (a, b) => scores![a]! - scores![b]! || positions[a]! - positions[b]!),
  };
}

export function streamingRule(sinks: number): EvictionRule {
  const isCandidate = (positions: Int32Array, s: number) => positions[s]! >= sinks;
  return {
    accumulatesAttention: false,
    evictable: (positions, count) => countWhere(count, (s) => isCandidate(positions, s)),
    choose: (positions, _scores, count, k) => pickLowest(count, k, (s) => isCandidate(positions, s), (a, b) => positions[a]! - positions[b]!),
  };
}

function countWhere(count: number, keep: (s: number) => boolean): number {
  let n = 0;
  for (let s = 0; s < count; s++) if (keep(s)) n++;
  return n;
}

/** The k lowest candidates by `order` (a single scan for k = 1, the decode case). */
function pickLowest(count: number, k: number, isCandidate: (s: number) => boolean, order: (a: number, b: number) => number): number[] {
  if (k <= 0) return [];
  if (k === 1) {
    let best = -1;
    for (let s = 0; s < count; s++) if (isCandidate(s) && (best < 0 || order(s, best) < 0)) best = s;
    return best < 0 ? [] : [best];
  }
  const candidates: number[] = [];
  for (let s = 0; s < count; s++) if (isCandidate(s)) candidates.push(s);
  return candidates.sort(order).slice(0, k);
}
