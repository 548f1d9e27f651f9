import type { Compute } from "../kernels/Compute.js";
import { ContextOverflowError } from "../util/errors.js";
import { noRollback, type CacheShape, type KVCache, type QueryBlock } from "./KVCache.js";
import { cacheBytes, type CacheBits, type CacheBytes, type CacheReportView } from "./CacheReportView.js";
import { F16Rows } from "./F16Rows.js";
import { SlotTable } from "./SlotTable.js";
import { BitsTally } from "./paperBits.js";
import { heavyHitterRule, streamingRule, type EvictionRule } from "./evictionRules.js";
import { formatKvSpec, type H2oConfig, type StreamingConfig } from "./spec.js";
import { maskFutureUnordered } from "./attentionSupport.js";

/**
 * Eviction caches (H2O, StreamingLLM): at most `budget` tokens per layer and KV head, each kept in fp16, in slots.
 * Per layer: keys and values as fp16 rows [nKvHeads, capacity, D] indexed by slot, and a SlotTable (position and,
 * for H2O, accumulated attention per slot). Stored token t of a head IS slot t, so slots are not in position order
 * and the causal mask reads the stored positions. Keys keep the rotary phase of their original position (no
 * StreamingLLM-style re-indexing of positions inside the window).
 *
 * Exact eviction rule (per layer and head, rule of evictionRules.ts, `end` = position after the forward pass):
 * 1. append of n tokens to S kept: k = min(S + n − budget, n, evictable) old tokens are evicted first (by the rule,
 *    from the attention accumulated so far) and the new tokens take their slots, then slots S.., so attention of a
 *    decode step reads exactly `budget` tokens;
 * 2. endForward: if more than `budget` remain (a block longer than what could be evicted before it, e.g. a prefill
 *    longer than the budget), the excess is evicted by the same rule over all kept tokens, now including the
 *    block's own (and, for H2O, the attention the block just paid them); the last kept slots fill the holes.
 * All heads evict the same number (H2O's recent window is kept by every head), so storedTokens is per layer.
 * truncate(p) drops the tokens at positions ≥ p; evicted tokens do not come back; heads left with more tokens
 * than others evict their extra by the rule, so the count stays per layer.
 */
interface EvictingLayer {
  readonly keys: F16Rows;
  readonly values: F16Rows;
  readonly slots: SlotTable;
  count: number;
  /** positions appended to this layer so far */
  seen: number;
}

export class EvictingCache implements KVCache, CacheReportView {
  readonly spec: string;
  readonly budget: number;
  readonly rule: EvictionRule;
  readonly layers: readonly EvictingLayer[];
  nextPos = 0;
  /** truncate below drops tokens, but evicted ones do not come back: not the state the cache had at that position */
  readonly rollback = noRollback("evicted tokens cannot be restored");

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    config: H2oConfig | StreamingConfig,
  ) {
    this.spec = formatKvSpec(config);
    this.budget = config.budget;
    this.rule = config.kind === "h2o" ? heavyHitterRule(config.recent) : streamingRule(config.sinkTokens);
    const { nLayers, nKvHeads, headDim, maxTokens } = shape;
    const layers: EvictingLayer[] = [];
    for (let l = 0; l < nLayers; l++) {
      const what = `${config.kind} layer ${l}`;
      layers.push({
        keys: new F16Rows(compute.heap, nKvHeads, headDim, maxTokens, `${what} keys`),
        values: new F16Rows(compute.heap, nKvHeads, headDim, maxTokens, `${what} values`),
        slots: new SlotTable(compute.heap, nKvHeads, this.rule.accumulatesAttention, what),
        count: 0,
        seen: 0,
      });
    }
    this.layers = layers;
  }

  storedTokens(layer: number): number {
    return this.layers[layer]!.count;
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    const s = this.layers[layer]!;
    if (firstPos !== s.seen) throw new Error(`append at position ${firstPos}, cache has seen ${s.seen}`);
    const end = firstPos + nTok;
    if (end > this.shape.maxTokens) throw new ContextOverflowError(end, this.shape.maxTokens, "KV cache");
    const { nKvHeads, headDim } = this.shape;
    const evictions = Math.min(s.count + nTok - this.budget, nTok, this.evictableInAllHeads(s, s.count, end));
    const victims = Array.from({ length: nKvHeads }, (_, h) => this.choose(s, h, s.count, evictions, end).sort((a, b) => a - b));
    const newCount = s.count - Math.max(0, evictions) + nTok;
    this.ensureSlots(s, Math.max(newCount, s.count));
    for (let h = 0; h < nKvHeads; h++) {
      const positions = s.slots.positions(h);
      const scores = s.slots.scores(h);
      for (let i = 0; i < nTok; i++) {
        const slot = i < victims[h]!.length ? victims[h]![i]! : s.count + i - victims[h]!.length;
        s.keys.writeRow(h, slot, k, i * nKvHeads * headDim + h * headDim);
        s.values.writeRow(h, slot, v, i * nKvHeads * headDim + h * headDim);
        positions[slot] = firstPos + i;
        if (scores !== null) scores[slot] = 0;
      }
    }
    s.count = newCount;
    s.seen = end;
    if (layer === this.shape.nLayers - 1) this.nextPos = end;
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    const s = this.layers[layer]!;
    const heap = this.compute.heap;
    s.keys.scores(this.compute, kvHead, heap.ptrOf(q), heap.ptrOf(out), block.nTok * block.nRep, s.count, s.count);
    maskFutureUnordered(out, block, s.count, s.slots.positions(kvHead));
  }

  /** H2O: adds every query row's attention (all query heads of this KV head) to the tokens' accumulated scores. */
  observe(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock): void {
    const s = this.layers[layer]!;
    const scores = s.slots.scores(kvHead);
    if (scores === null) return;
    const T = s.count;
    const rows = block.nTok * block.nRep;
    for (let row = 0; row < rows; row++) for (let t = 0; t < T; t++) scores[t]! += probs[row * T + t]!;
  }

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    const s = this.layers[layer]!;
    const heap = this.compute.heap;
    s.values.mix(this.compute, kvHead, heap.ptrOf(probs), heap.ptrOf(out), block.nTok * block.nRep, s.count);
  }

  endForward(firstPos: number, nTok: number): void {
    const end = firstPos + nTok;
    for (const s of this.layers) if (s.count > this.budget) this.evictAndCompact(s, s.count - this.budget, end);
  }

  truncate(nextPos: number): void {
    const heads = this.shape.nKvHeads;
    for (const s of this.layers) {
      s.seen = Math.min(s.seen, nextPos);
      if (s.count === 0) continue;
      const counts = Array.from({ length: heads }, (_, h) => {
        const positions = s.slots.positions(h);
        let count = s.count;
        // downward, so the slot moved into a hole has already been checked
        for (let slot = count - 1; slot >= 0; slot--) if (positions[slot]! >= nextPos) this.removeSlot(s, h, slot, count--);
        return count;
      });
      const fewest = Math.min(...counts);
      for (let h = 0; h < heads; h++) {
        const extra = this.choose(s, h, counts[h]!, counts[h]! - fewest, Infinity).sort((a, b) => b - a);
        let count = counts[h]!;
        for (const slot of extra) this.removeSlot(s, h, slot, count--);
      }
      s.count = fewest;
    }
    this.nextPos = Math.min(this.nextPos, nextPos);
  }

  reset(): void {
    this.truncate(0);
  }

  /** Kept tokens' fp16 rows are codes, their slot entries metadata; slots allocated beyond the kept tokens are slack. */
  nbytes(): CacheBytes {
    const { nKvHeads, headDim } = this.shape;
    const slotEntryBytes = this.rule.accumulatesAttention ? 8 : 4; // i32 position (+ f32 accumulated attention)
    let allocated = 0;
    let codes = 0;
    let metadata = 0;
    for (const s of this.layers) {
      allocated += s.keys.byteLength + s.values.byteLength + s.slots.byteLength;
      codes += 2 * s.count * nKvHeads * headDim * 2;
      metadata += s.count * nKvHeads * slotEntryBytes;
    }
    return cacheBytes(codes, metadata, 0, 0, 0, allocated - codes - metadata);
  }

  paperBits(): CacheBits {
    const tally = new BitsTally();
    const kvDim = this.shape.nKvHeads * this.shape.headDim;
    for (const s of this.layers) tally.add(s.count * kvDim, 16);
    const part = tally.partBits(this.nextPos * this.shape.nLayers * kvDim);
    return { keys: part, values: part };
  }

  dispose(): void {
    for (const s of this.layers) {
      s.keys.free();
      s.values.free();
      s.slots.free();
    }
  }

  private evictableInAllHeads(s: EvictingLayer, count: number, end: number): number {
    if (count === 0) return 0;
    let fewest = Infinity;
    for (let h = 0; h < this.shape.nKvHeads; h++) fewest = Math.min(fewest, this.rule.evictable(s.slots.positions(h), count, end));
    return fewest;
  }

  private choose(s: EvictingLayer, head: number, count: number, k: number, end: number): number[] {
    return k > 0 ? this.rule.choose(s.slots.positions(head), s.slots.scores(head), count, k, end) : [];
  }

  /** Evicts `excess` tokens of every head by the rule, filling each hole with the head's last kept slot. */
  private evictAndCompact(s: EvictingLayer, excess: number, end: number): void {
    const k = Math.min(excess, this.evictableInAllHeads(s, s.count, end));
    for (let h = 0; h < this.shape.nKvHeads; h++) {
      const victims = this.choose(s, h, s.count, k, end).sort((a, b) => b - a);
      let count = s.count;
      for (const slot of victims) this.removeSlot(s, h, slot, count--);
    }
    s.count -= k;
  }

  /** Moves the last of `count` slots of head h into `slot` (the caller shrinks the count). */
  private removeSlot(s: EvictingLayer, head: number, slot: number, count: number): void {
    const last = count - 1;
    if (slot === last) return;
    s.keys.moveRow(head, last, slot);
    s.values.moveRow(head, last, slot);
    const positions = s.slots.positions(head);
    positions[slot] = positions[last]!;
    const scores = s.slots.scores(head);
    if (scores !== null) scores[slot] = scores[last]!;
  }

  private ensureSlots(s: EvictingLayer, slots: number): void {
    s.keys.ensureRows(slots, s.count);
    s.values.ensureRows(slots, s.count);
    s.slots.ensure(s.keys.capacity, s.count);
  }
}
