/**
 * Plans code widths for one endForward: gather() reads what does not depend on the tolerance scale λ (the tokens
 * that leave the fp16 tail now, the ‖Q‖² quantiles), then allocateGroup() gives the widths of one allocation unit at
 * λ (ε_K = λ·ε_K0, ε_V = λ·ε_V0), as often as the budget search or the re-quantizer asks. Nothing per token is kept
 * between calls: s_t comes from the attention window and the ranges from the layer each time, into scratch [T].
 *
 * Per layer: tokens [0, S) sinks, [S, packedEnd) packed already, [packedEnd, quantizeEnd) packed by this step,
 * [quantizeEnd, T) stay fp16 (stream: the young tail; prompt: nothing, the whole prompt is quantized at once).
 * Without a backing tier a packed group's width may only fall: its planned width is min(target, current).
 * Units: group=head allocates per (layer, KV head) from that head's window, group=layer per layer from the layer's
 * window (whose observations are maxima over all the layer's heads), with ‖Q‖² the largest head quantile (the bound
 * then holds for every head reading the shared group).
 *
 * Budget quantity: nbytes().hot after this step, exactly. Requantization changes only the packed slots (codes and
 * outliers) and the fp16 tail (fitted to the tokens it keeps); everything else the hot cache holds (slot metadata, a
 * function of the token count; sink rows; window, ranges and query-norm state) is the same before and after, so
 *   hot(λ) = fixed + Σ slotBytes(planned width) over the packed groups + fp16 bytes of the tokens left in the tail,
 * with fixed = hot now − (slots + tail now), measured by the caller. ratio=R compares hot with the same tokens in
 * fp16 (2 bytes per value of K and V): limit = fp16 bytes / R.
 */
import type { CacheShape } from "../KVCache.js";
import type { PackedGroupStore } from "../PackedGroupStore.js";
import { allocateBits, type BitPolicy, type TokenBits, type Tolerances } from "./bitAllocator.js";
import type { AttentionWindow } from "./AttentionWindow.js";
import type { MemoryBudget } from "./budget.js";
import type { QaqLayer } from "./QaqLayer.js";
import type { QueryNormQuantile } from "./QueryNormQuantile.js";

interface LayerSpan {
  tokens: number;
  packedEnd: number;
  quantizeEnd: number;
  /** [groupsPerToken] ‖Q‖² of each unit */
  queryNormSq: number[];
}

export class WidthPlanner {
  private readonly spans: LayerSpan[] = [];
  /** [9] bytes of a slot at width b (keys and values share one slot format) */
  private readonly slotBytes: number[];
  private layers: readonly QaqLayer[] = [];
  private window: AttentionWindow | null = null;
  /** scratch [capacity ≥ T]: one unit's evidence and widths */
  private evidence = { keyRange: new Float32Array(0), valueRange: new Float32Array(0), attention: new Float32Array(0), young: new Uint8Array(0) };
  private widths: TokenBits = { key: new Uint8Array(0), value: new Uint8Array(0) };
  /** scratch [capacity ≥ T]: current widths of one packed sequence (backing=none caps the plan with them) */
  private current = new Uint8Array(0);

  constructor(
    private readonly shape: CacheShape,
    private readonly policy: BitPolicy,
    private readonly baseTolerances: Tolerances,
    private readonly widthsMayRise: boolean,
    store: PackedGroupStore,
  ) {
    this.slotBytes = Array.from({ length: 9 }, (_, b) => store.slotBytes(b));
    for (let l = 0; l < shape.nLayers; l++) this.spans.push({ tokens: 0, packedEnd: 0, quantizeEnd: 0, queryNormSq: [] });
  }

  /** Tokens [packedEnd, quantizeEnd) of `layer` leave the fp16 tail this step. */
  range(layer: number): { packedEnd: number; quantizeEnd: number } {
    return this.spans[layer]!;
  }

  /** Reads the step's λ-independent evidence. wholePrompt: quantize every unquantized token (prompt mode). */
  gather(layers: readonly QaqLayer[], window: AttentionWindow, norms: QueryNormQuantile, wholePrompt: boolean): void {
    this.layers = layers;
    this.window = window;
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      const span = this.spans[l]!;
      const T = layer.tokens;
      this.ensure(T);
      span.tokens = T;
      span.packedEnd = layer.firstResident;
      span.queryNormSq = Array.from({ length: layer.groupsPerToken }, (_, g) =>
        knownOrInfinite(layer.groupsPerToken > 1 ? norms.estimate(l, g) : norms.estimateLayer(l)),
      );
      let end = layer.firstResident;
      if (wholePrompt) end = Math.max(end, T);
      else {
        // young tokens are a suffix (older tokens have been seen by more rows); every unit of a layer sees the same rows
        this.readUnit(l, 0, T);
        while (end < T && this.evidence.young[end] === 0) end++;
      }
      span.quantizeEnd = end;
    }
  }

  /** Widths [T] of unit (layer, g) at tolerance scale λ; the arrays are scratch, valid until the next call. */
  allocateGroup(l: number, g: number, scale: number): TokenBits {
    const layer = this.layers[l]!;
    const span = this.spans[l]!;
    const T = span.tokens;
    this.readUnit(l, g, T);
    layer.readRanges("keys", g, this.evidence.keyRange);
    layer.readRanges("values", g, this.evidence.valueRange);
    const tolerances: Tolerances = { key: scale * this.baseTolerances.key, value: scale * this.baseTolerances.value };
    allocateBits(this.policy, tolerances, T, span.queryNormSq[g]!, this.evidence, this.widths);
    if (!this.widthsMayRise) {
      const first = this.policy.sinkTokens;
      const count = Math.max(0, span.packedEnd - first);
      const current = this.current;
      for (const part of ["keys", "values"] as const) {
        const widths = part === "keys" ? this.widths.key : this.widths.value;
        layer[part].readWidths(g, first, first + count, current);
        for (let t = first; t < first + count; t++) widths[t] = Math.min(widths[t]!, current[t - first]!);
      }
    }
    return this.widths;
  }

  /**
   * nbytes().hot after this step if it plans at λ (file comment); fixedBytes: the hot bytes that requantization does
   * not change, measured now.
   */
  budgetBytes(scale: number, fixedBytes: number): number {
    let bytes = fixedBytes;
    for (let l = 0; l < this.layers.length; l++) {
      const span = this.spans[l]!;
      const sinks = Math.min(this.policy.sinkTokens, span.tokens);
      for (let g = 0; g < this.layers[l]!.groupsPerToken; g++) {
        const widths = this.allocateGroup(l, g, scale);
        for (let t = sinks; t < span.quantizeEnd; t++) bytes += this.slotBytes[widths.key[t]!]! + this.slotBytes[widths.value[t]!]!;
      }
      bytes += this.fp16Bytes(span.tokens - Math.max(span.quantizeEnd, sinks));
    }
    return bytes;
  }

  /** The budget's limit in the same quantity: the bytes given, or every stored token's fp16 size over the ratio. */
  budgetLimit(budget: MemoryBudget): number {
    if (budget.kind === "bytes") return budget.bytes;
    let tokens = 0;
    for (const span of this.spans.slice(0, this.layers.length)) tokens += span.tokens;
    return this.fp16Bytes(tokens) / budget.ratio;
  }

  /** Bytes of the scratch arrays: working memory of one planning step (like the attention scratch, not cache contents). */
  get byteLength(): number {
    const arrays = [...Object.values(this.evidence), this.widths.key, this.widths.value, this.current];
    return arrays.reduce((sum, a) => sum + a.byteLength, 0);
  }

  /** K and V of `tokens` tokens of one layer in fp16. */
  private fp16Bytes(tokens: number): number {
    return 2 * 2 * this.shape.nKvHeads * this.shape.headDim * tokens;
  }

  /** s_t and young flags of unit (l, g) into the evidence scratch (window unit: per head, or per layer). */
  private readUnit(l: number, g: number, T: number): void {
    const unit = this.layers[l]!.groupsPerToken > 1 ? l * this.shape.nKvHeads + g : l;
    readWindow(this.window!, unit, T, this.evidence.attention, this.evidence.young);
  }

  private ensure(T: number): void {
    if (this.evidence.attention.length >= T) return;
    const capacity = Math.min(this.shape.maxTokens, Math.max(T, 2 * this.evidence.attention.length, 64));
    this.evidence = {
      keyRange: new Float32Array(capacity),
      valueRange: new Float32Array(capacity),
      attention: new Float32Array(capacity),
      young: new Uint8Array(capacity),
    };
    this.widths = { key: new Uint8Array(capacity), value: new Uint8Array(capacity) };
    this.current = new Uint8Array(capacity);
  }
}

/** s_t and young flags of a unit's T tokens; tokens the window has not observed yet are young, with s_t = 0. */
function readWindow(window: AttentionWindow, unit: number, T: number, attention: Float32Array, young: Uint8Array): void {
  window.maxAttention(unit, attention);
  window.youngTokens(unit, young);
  const seen = Math.min(window.tokens(unit), T);
  attention.fill(0, seen, T);
  young.fill(1, seen, T);
}

/** ‖Q‖² before any query was seen is unknown: Infinity makes σ_K = 0, the safe (widest) choice. */
function knownOrInfinite(estimate: number): number {
  return Number.isNaN(estimate) ? Infinity : estimate;
}
