/**
 * The QAQ cache (Dong et al. 2024; shared/docs/QAQ-METHOD.md): per-token, per-part code widths from the K-bound and
 * V-bound (bitFormulas.ts), stored as real packed groups (each group its own width, in block-packed sequences with
 * derived offsets: PackedSequence) and read by the packed attention kernels.
 *
 * Precision: K and V are rounded to fp16 once, on append (the project's full precision, as in the fp16 baseline);
 * every quantization starts from those values. New tokens first sit in an fp16 tail (QaqLayer), then:
 *   mode=prompt (the paper's protocol): at the first endForward every token so far (the prompt) is quantized once,
 *     with T = the prompt length and the attention of the prompt's last n query rows (the window); the last n−1
 *     prompt tokens, seen by fewer than n rows, get b_max. Tokens appended later (decoded tokens, choices scored on
 *     top) stay in the fp16 tail: full precision, as in the paper, and reported as residual bytes. The engine calls
 *     endForward once per forward call, so "the prompt" is everything the first forward call appended.
 *   mode=stream (QAQ's section 4): at every endForward the widths of all tokens are recomputed; tokens that are no
 *     longer young (seen by n rows) leave the fp16 tail at their planned width, packed tokens whose width changes are
 *     re-quantized from the backing tier (memory or file); with backing=none widths may only fall (re-quantized from
 *     their own decoded values). Young tokens are held in fp16 rather than at b_max: they must be quantized from
 *     full precision when they mature, and keeping them in fp16 spares the backing tier a read per new token.
 * Budget mode (budget= or ratio=, stream mode only): the tolerance scale λ is searched at every planning step so that
 * nbytes().hot after the step stays within the budget (budget.ts, WidthPlanner.budgetBytes: an exact prediction);
 * a budget the cheapest allocation cannot meet at the full context is refused when the cache is created.
 * Sinks: the first `sinks` tokens stay fp16 forever.
 */
import type { Compute } from "../../kernels/Compute.js";
import { f16FromF32Bits } from "../../quant/fp16.js";
import { widenF16Bits } from "./f16Bits.js";
import { ConfigError, ContextOverflowError } from "../../util/errors.js";
import { AttentionScratch } from "../AttentionScratch.js";
import { maskFuturePositions } from "../attentionSupport.js";
import { exactRollback, noRollback, type CacheShape, type KVCache, type QueryBlock, type Rollback } from "../KVCache.js";
import { cacheBytes, type CacheBits, type CacheBytes, type CacheReportView, type WidthMap } from "../CacheReportView.js";
import { PackedGroupStore } from "../PackedGroupStore.js";
import { BitsTally } from "../paperBits.js";
import { PackedSequence } from "../PackedSequence.js";
import { AttentionWindow } from "./AttentionWindow.js";
import { WasmRowCoder } from "./windowCoder.js";
import { createBackingTier, type BackingTier, type KvPart } from "./BackingTier.js";
import { fitToleranceScale, type MemoryBudget } from "./budget.js";
import { GroupRangeMeter } from "./GroupRangeMeter.js";
import { QaqLayer } from "./QaqLayer.js";
import type { QaqConfig } from "./qaqSpec.js";
import type { GroupScope } from "../PackedPart.js";
import { formatKvSpec } from "../spec.js";
import { QaqStatsCounter, type QaqStats } from "./QaqStats.js";
import { QueryNormQuantile } from "./QueryNormQuantile.js";
import { Requantizer } from "./Requantizer.js";
import { WidthPlanner } from "./WidthPlanner.js";

export class QaqCache implements KVCache, CacheReportView {
  readonly spec: string;
  /** the grouping in use: the config's, with auto resolved for this model's shape (resolveGroup) */
  readonly group: GroupScope;
  readonly layers: readonly QaqLayer[];
  readonly keyStore: PackedGroupStore;
  readonly valueStore: PackedGroupStore;
  readonly backing: BackingTier | null;
  private readonly scratch: AttentionScratch;
  private readonly window: AttentionWindow;
  private readonly windowCoder: WasmRowCoder;
  private readonly norms: QueryNormQuantile;
  private readonly planner: WidthPlanner;
  private readonly requantizer: Requantizer;
  private readonly meter: GroupRangeMeter;
  private readonly counters = new QaqStatsCounter();
  private readonly sinks: number;
  private promptQuantized = false;
  /** the budget in force: the spec's, or one set from outside (setBudgetBytes) */
  private budget: MemoryBudget | null;
  /** fp16 rounding of an appended block: bits [nTok, kvDim] and their f32 values, for keys and values */
  private rounded = { keyBits: new Uint16Array(0), valueBits: new Uint16Array(0), keys: new Float32Array(0), values: new Float32Array(0) };
  nextPos = 0;
  /** prompt mode: exact (the prompt's widths are fixed, later tokens sit in the fp16 tail); stream mode: the widths
   * of kept tokens were re-planned with the attention of the tokens a rollback would drop */
  readonly rollback: Rollback;

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    readonly config: QaqConfig,
  ) {
    const { nLayers, nKvHeads, headDim, maxTokens } = shape;
    this.group = resolveGroup(config, shape);
    this.spec = formatKvSpec(config);
    this.rollback = config.mode === "prompt" ? exactRollback(this) : noRollback("streaming QAQ re-planned widths with the attention of later tokens");
    const groupLength = this.group === "head" ? headDim : nKvHeads * headDim;
    const method = config.variant === "paper" ? "minmax" : "meanClip";
    this.keyStore = new PackedGroupStore(compute.heap, groupLength, config.outlierRatio, method, "QAQ key slots");
    this.valueStore = new PackedGroupStore(compute.heap, groupLength, config.outlierRatio, method, "QAQ value slots");
    this.sinks = Math.min(config.sinkTokens, maxTokens);
    this.scratch = new AttentionScratch(compute);
    this.layers = Array.from(
      { length: nLayers },
      (_, l) => new QaqLayer(compute, this.scratch, this.keyStore, this.valueStore, this.group, this.sinks, shape, `QAQ layer ${l}`),
    );
    // group=layer: one window per layer (s_t is the max over its heads), observed by every head in turn
    this.windowCoder = new WasmRowCoder(compute);
    this.window = new AttentionWindow(this.group === "head" ? nLayers * nKvHeads : nLayers, config.window, maxTokens, this.windowCoder);
    this.norms = new QueryNormQuantile(nLayers, nKvHeads, config.queryQuantile);
    const policy = { minBits: config.minBits, maxBits: config.maxBits, variant: config.variant, sinkTokens: this.sinks };
    const tolerances = { key: config.keyTolerance, value: config.valueTolerance };
    this.planner = new WidthPlanner(shape, policy, tolerances, config.backing !== "none", this.keyStore);
    this.backing = config.mode === "stream" ? createBackingTier(config.backing, shape) : null;
    this.requantizer = new Requantizer(this.backing, groupLength, this.sinks);
    this.meter = new GroupRangeMeter(groupLength, config.outlierRatio);
    checkFeasibleBudget(config, shape, this.cheapestBytes(maxTokens));
    this.budget = config.budget;
  }

  /**
   * Sets the hot bytes this cache may hold from its next planning step on (stream mode): how `qaq serve --kv-budget`
   * shares one budget among its sessions, re-dividing it as sessions come and go. A limit below what the cheapest
   * allocation needs is met as closely as it can be (the cheapest allocation); the caller keeps limits feasible.
   */
  setBudgetBytes(bytes: number): void {
    if (this.config.mode !== "stream") throw new ConfigError("qaq.mode", "stream for a budget (in prompt mode the tokens after the prompt stay in fp16)", this.config.mode);
    if (!(bytes >= 0 && Number.isFinite(bytes))) throw new ConfigError("qaq budget bytes", "a finite number >= 0", bytes);
    this.budget = { kind: "bytes", bytes };
  }

  storedTokens(layer: number): number {
    return this.layers[layer]!.tokens;
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    const parts = this.layers[layer]!;
    if (firstPos !== parts.tokens) throw new Error(`append at position ${firstPos}, cache holds ${parts.tokens}`);
    const end = firstPos + nTok;
    if (end > this.shape.maxTokens) throw new ContextOverflowError(end, this.shape.maxTokens, "KV cache");
    const r = this.roundToF16(nTok, k, v);
    const start = performance.now();
    if (this.policyActive) parts.measureRanges(nTok, r.keys, r.values, this.meter);
    this.backing?.write(layer, "keys", firstPos, nTok, r.keyBits);
    this.backing?.write(layer, "values", firstPos, nTok, r.valueBits);
    this.counters.addTime(start);
    parts.append(nTok, r.keys, r.values);
    if (layer === this.shape.nLayers - 1) this.nextPos = end;
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    const heap = this.compute.heap;
    const nq = block.nTok * block.nRep;
    heap.ptrOf(out);
    if (this.policyActive) {
      const start = performance.now();
      this.norms.observe(layer, kvHead, q, nq, this.shape.headDim);
      this.counters.addTime(start);
    }
    const parts = this.layers[layer]!;
    parts.scores(kvHead, heap.ptrOf(q), out, nq);
    maskFuturePositions(out, block, parts.tokens, (t) => t);
  }

  observe(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock): void {
    if (!this.policyActive) return;
    const start = performance.now();
    const unit = this.group === "head" ? layer * this.shape.nKvHeads + kvHead : layer;
    this.window.observe(unit, probs, block, this.layers[layer]!.tokens);
    this.counters.addTime(start);
  }

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    const heap = this.compute.heap;
    heap.ptrOf(probs);
    this.layers[layer]!.mix(kvHead, probs, block.nTok * block.nRep, heap.ptrOf(out));
  }

  endForward(): void {
    const start = performance.now();
    let counts = { quantized: 0, raised: 0, lowered: 0 };
    if (this.policyActive) {
      this.planner.gather(this.layers, this.window, this.norms, this.config.mode === "prompt");
      counts = this.requantizer.apply(this.layers, this.planner, this.toleranceScale());
      if (this.config.mode === "prompt") this.promptQuantized = true;
    }
    for (const layer of this.layers) layer.fitResident();
    this.counters.addTime(start);
    this.counters.endStep(counts);
  }

  truncate(nextPos: number): void {
    for (const layer of this.layers) layer.truncate(nextPos);
    this.backing?.truncate(nextPos);
    this.window.truncate(nextPos);
    this.nextPos = Math.min(this.nextPos, nextPos);
    if (this.nextPos === 0) this.promptQuantized = false;
  }

  reset(): void {
    this.truncate(0);
    this.window.reset();
    this.norms.reset();
    this.counters.toleranceScale = 1;
  }

  /**
   * Hot bytes: packed codes; metadata = slot metadata (4-bit widths, f16 scales and zeros, block tables) + the
   * policy's state (attention window, ranges, query-norm histograms); outliers; residual = fp16 sink and tail rows.
   * The planner's per-step scratch is working memory, like the attention scratch, and not counted.
   */
  nbytes(): CacheBytes {
    let codes = 0;
    let outliers = 0;
    let metadata = this.window.liveBytes + this.norms.byteLength;
    let residual = 0;
    let slack = this.window.byteLength - this.window.liveBytes;
    for (const layer of this.layers) {
      const b = layer.nbytes();
      codes += b.codes;
      outliers += b.outliers;
      metadata += b.metadata + b.bookkeeping;
      residual += b.residual;
      slack += b.slack;
    }
    const location = this.config.backing === "file" ? "disk" : "memory";
    return cacheBytes(codes, metadata, outliers, residual, this.backing?.byteLength ?? 0, slack, location);
  }

  paperBits(): CacheBits {
    const tallies = { keys: new BitsTally(), values: new BitsTally() };
    const kvDim = this.shape.nKvHeads * this.shape.headDim;
    for (const layer of this.layers) {
      const packedEnd = Math.max(layer.sinkCount, Math.min(layer.firstResident, layer.tokens));
      for (const part of ["keys", "values"] as const) {
        const tally = tallies[part];
        tally.add((layer.sinkCount + layer.residentCount) * kvDim, 16);
        tally.add(layer.groupLength, layer[part].codeBitsSum(layer.sinkCount, packedEnd));
        tally.outliers(layer[part].packedGroups(layer.sinkCount, packedEnd) * layer[part].store.nOut);
      }
    }
    const seen = this.nextPos * this.shape.nLayers * kvDim;
    return { keys: tallies.keys.partBits(seen), values: tallies.values.partBits(seen) };
  }

  /** QAQ's own counters: (re-)quantizations per step, backing reads, bookkeeping time, budget. */
  /**
   * Where the bits went: per layer and part, [group][token] widths (16 = held in fp16). Groups are KV heads for
   * group=head, one per layer for group=layer.
   */
  widthMap(): WidthMap {
    const groups = this.group === "head" ? this.shape.nKvHeads : 1;
    return this.layers.map((layer) => {
      const read = (part: KvPart) =>
        Array.from({ length: groups }, (_, g) => Array.from({ length: layer.tokens }, (_, t) => layer.storedWidth(part, t, g)));
      return { keys: read("keys"), values: read("values") };
    });
  }

  stats(): QaqStats {
    return this.counters.snapshot(this.backing?.reads ?? 0, this.backing?.bytesRead ?? 0);
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
    this.scratch.free();
    this.windowCoder.free();
    this.backing?.dispose();
  }

  /**
   * nbytes().hot with T tokens in every layer at the cheapest allocation, in stream mode after a decode step: the
   * last window − 1 tokens young (fp16 tail), the rest packed at b_min, plus metadata, sinks, window, ranges and
   * query-norm state (at the most its histograms can hold, as their size depends on the queries to come).
   */
  cheapestBytes(T: number): number {
    const { nKvHeads, headDim } = this.shape;
    const sinks = Math.min(this.sinks, T);
    const young = Math.min(this.config.window - 1, T - sinks);
    const packed = T - sinks - young;
    let bytes = this.window.bytesFor(T) + this.norms.maxByteLength;
    for (const layer of this.layers) {
      const gpt = layer.groupsPerToken;
      bytes += 2 * gpt * (PackedSequence.metadataBytes(T) + packed * this.keyStore.slotBytes(this.config.minBits) + 2 * T);
      bytes += 2 * 2 * nKvHeads * headDim * (sinks + young);
    }
    return bytes;
  }

  /** Stream mode always plans; prompt mode until its prompt is quantized. */
  private get policyActive(): boolean {
    return this.config.mode === "stream" || !this.promptQuantized;
  }

  /** λ = 1, or the λ the budget search finds (starting from the previous step's). */
  private toleranceScale(): number {
    const budget = this.budget;
    if (budget === null) return 1;
    const limit = this.planner.budgetLimit(budget);
    let fixed = this.nbytes().hot;
    for (const layer of this.layers) {
      const b = layer.nbytes();
      fixed -= b.codes + b.outliers + layer.residentBytesFor(layer.residentCount);
    }
    const bytesFor = (scale: number) => this.planner.budgetBytes(scale, fixed);
    const previous = this.counters.toleranceScale;
    const fit = fitToleranceScale(limit, bytesFor, previous > 0 && previous < Infinity ? previous : 1);
    this.counters.toleranceScale = fit.scale;
    this.counters.budgetBytes = fit.bytes;
    this.counters.budgetLimitBytes = limit;
    this.counters.budgetMet = fit.met;
    return fit.scale;
  }

  /** Rounds a block's K and V to fp16 (bits kept for the backing tier, values for storage and the policy). */
  private roundToF16(nTok: number, k: Float32Array, v: Float32Array) {
    const n = nTok * this.shape.nKvHeads * this.shape.headDim;
    if (this.rounded.keys.length < n) {
      this.rounded = { keyBits: new Uint16Array(n), valueBits: new Uint16Array(n), keys: new Float32Array(n), values: new Float32Array(n) };
    }
    const r = this.rounded;
    roundRows(new Uint32Array(k.buffer, k.byteOffset, n), r.keyBits, new Uint32Array(r.keys.buffer, 0, n));
    roundRows(new Uint32Array(v.buffer, v.byteOffset, n), r.valueBits, new Uint32Array(r.values.buffer, 0, n));
    return r;
  }
}

/**
 * group=auto: per layer for a GQA model with several KV heads (queryHeadsPerKvHead > 1, nKvHeads > 1), where a
 * layer's group spans every KV head and halves the per-group metadata and policy state at no measured loss on
 * student64 (docs/RESULTS.md, docs/ARCHITECTURE.md); per KV head otherwise (one KV head has nothing to share, and
 * for multi-head attention no measurement says a layer-wide grid is as good).
 */
export function resolveGroup(config: QaqConfig, shape: CacheShape): GroupScope {
  if (config.group !== "auto") return config.group;
  return (shape.queryHeadsPerKvHead ?? 1) > 1 && shape.nKvHeads > 1 ? "layer" : "head";
}

/** f32 bit patterns -> fp16 bits (round to nearest even) and the bit patterns of the fp16 values widened back. */
function roundRows(src: Uint32Array, bits: Uint16Array, widened: Uint32Array): void {
  for (let i = 0; i < src.length; i++) {
    const h = f16FromF32Bits(src[i]!);
    bits[i] = h;
    widened[i] = widenF16Bits(h);
  }
}

/**
 * A budget is refused when even the cheapest allocation (b_min for every packed group) exceeds it with the whole
 * context stored: the error gives the smallest feasible budget (and the largest feasible ratio) for this model and
 * context. Prompt mode keeps the tokens after the prompt in fp16, so no budget can hold there: refused as well.
 */
function checkFeasibleBudget(config: QaqConfig, shape: CacheShape, cheapest: number): void {
  const budget = config.budget;
  if (budget === null) return;
  if (config.mode === "prompt") {
    throw new ConfigError(`qaq.${budget.kind === "bytes" ? "budget" : "ratio"}`, "used with mode=stream (in prompt mode the tokens after the prompt stay in fp16, so no budget can hold for them)", "mode=prompt");
  }
  const fp16 = 2 * 2 * shape.nLayers * shape.nKvHeads * shape.headDim * shape.maxTokens;
  const context = `the cheapest allocation (min=${config.minBits} bits everywhere) of ${shape.maxTokens} tokens needs ${cheapest} bytes (fp16: ${fp16})`;
  if (budget.kind === "bytes" && budget.bytes < cheapest) {
    throw new ConfigError("qaq.budget", `at least ${cheapest} bytes: ${context}`, budget.bytes);
  }
  if (budget.kind === "ratio" && fp16 / budget.ratio < cheapest) {
    const best = Math.floor((fp16 / cheapest) * 100) / 100;
    throw new ConfigError("qaq.ratio", `at most ${best.toFixed(2)}: ${context}`, budget.ratio);
  }
}
