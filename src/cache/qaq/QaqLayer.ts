/**
 * One layer of the QAQ cache. Tokens, in position order, sit in one of three places:
 *
 *   [0, S)                sinks: fp16 rows forever (sinkRows, per part [nKvHeads, S, D], row = t)
 *   [S, firstResident)    packed: one group per (token, KV head) or per token, at its own width (keys/values PackedPart)
 *   [firstResident, T)    resident: fp16 rows (residentRows, per part [nKvHeads, rows, D], row = t − firstResident)
 *                         tokens not quantized yet (stream: young; prompt: everything after the prompt)
 *
 * Every token has a group in each packed sequence; sinks and resident tokens have empty ones (no slot bytes, 0 in the
 * packed kernels), so attention = packed kernel over all T tokens, then the fp16 segments overwrite their logit
 * columns (scores) or add their share (mix). The resident rows hold exactly the resident tokens after every
 * endForward (F16Rows.fit): a prefill's long tail leaves no capacity behind. Per-group ranges (outliers excluded)
 * are measured once, on append, from the fp16 values, and kept as fp16 rounded up (2 bytes per group; a range beyond
 * fp16 is kept as Infinity, which asks for b_max), in arrays grown in steps of RANGE_STEP tokens.
 * Source rows: [nTok, nKvHeads·D] f32 holding fp16-exact values.
 */
import type { Compute } from "../../kernels/Compute.js";
import type { AttentionScratch } from "../AttentionScratch.js";
import { F16Rows } from "../F16Rows.js";
import type { CacheShape } from "../KVCache.js";
import { PackedPart, type GroupScope } from "../PackedPart.js";
import type { PackedGroupStore } from "../PackedGroupStore.js";
import type { KvPart } from "./BackingTier.js";
import type { GroupRangeMeter } from "./GroupRangeMeter.js";
import { F16Rounder, widenF16Bits } from "./f16Bits.js";

/** Range arrays grow in steps of this many tokens (their slack stays below one step). */
const RANGE_STEP = 32;

export class QaqLayer {
  readonly keys: PackedPart;
  readonly values: PackedPart;
  readonly groupsPerToken: number;
  readonly groupLength: number;
  /** first token of the resident fp16 tail (≥ sinks) */
  firstResident: number;
  private readonly sinkRows: { readonly keys: F16Rows; readonly values: F16Rows } | null;
  private readonly residentRows: { readonly keys: F16Rows; readonly values: F16Rows };
  /** per part, per group g: [capacity] fp16 bits of the range of group (t, g), outliers excluded, rounded up */
  private readonly ranges: { keys: Uint16Array[]; values: Uint16Array[] };
  /** tokens whose ranges were measured (all of them in stream mode; the prompt's in prompt mode, which stops after it) */
  private rangeTokens = 0;
  private readonly rounder = new F16Rounder();

  constructor(
    private readonly compute: Compute,
    private readonly scratch: AttentionScratch,
    keyStore: PackedGroupStore,
    valueStore: PackedGroupStore,
    scope: GroupScope,
    readonly sinks: number,
    private readonly shape: CacheShape,
    what: string,
  ) {
    const { nKvHeads, headDim, maxTokens } = shape;
    this.keys = new PackedPart(keyStore, scope, nKvHeads, headDim, maxTokens, `${what} keys`);
    this.values = new PackedPart(valueStore, scope, nKvHeads, headDim, maxTokens, `${what} values`);
    this.groupsPerToken = this.keys.groupsPerToken;
    this.groupLength = keyStore.groupLength;
    const rows = (n: number, kind: string) => ({
      keys: new F16Rows(compute.heap, nKvHeads, headDim, n, `${what} ${kind} keys`),
      values: new F16Rows(compute.heap, nKvHeads, headDim, n, `${what} ${kind} values`),
    });
    this.sinkRows = sinks > 0 ? rows(sinks, "sink") : null;
    this.residentRows = rows(maxTokens, "unquantized");
    this.firstResident = sinks;
    this.ranges = { keys: [], values: [] };
    for (let g = 0; g < this.groupsPerToken; g++) {
      this.ranges.keys.push(new Uint16Array(0));
      this.ranges.values.push(new Uint16Array(0));
    }
  }

  get tokens(): number {
    return this.keys.tokens;
  }

  get sinkCount(): number {
    return Math.min(this.sinks, this.tokens);
  }

  get residentCount(): number {
    return Math.max(0, this.tokens - this.firstResident);
  }

  /** out[0 .. tokens) = the ranges of groups (t, g) of `part`. */
  readRanges(part: KvPart, g: number, out: Float32Array): void {
    const ranges = this.ranges[part][g]!;
    const T = this.tokens;
    const outBits = new Uint32Array(out.buffer, out.byteOffset, T);
    for (let t = 0; t < T; t++) outBits[t] = widenF16Bits(ranges[t]!);
  }

  /** Appends nTok tokens (fp16-exact f32 rows) as sinks or resident fp16 rows (measureRanges first). */
  append(nTok: number, k: Float32Array, v: Float32Array): void {
    const first = this.tokens;
    const kvDim = this.shape.nKvHeads * this.shape.headDim;
    this.keys.appendEmpty(nTok);
    this.values.appendEmpty(nTok);
    const sinkTok = Math.max(0, Math.min(nTok, this.sinks - first));
    if (sinkTok > 0) {
      this.sinkRows!.keys.ensureRows(this.sinks, first);
      this.sinkRows!.values.ensureRows(this.sinks, first);
      this.sinkRows!.keys.writeTokens(first, sinkTok, k);
      this.sinkRows!.values.writeTokens(first, sinkTok, v);
    }
    if (nTok > sinkTok) {
      const row = first + sinkTok - this.firstResident;
      const rows = this.residentCount;
      this.residentRows.keys.ensureRows(rows, row);
      this.residentRows.values.ensureRows(rows, row);
      this.residentRows.keys.writeTokens(row, nTok - sinkTok, k.subarray(sinkTok * kvDim));
      this.residentRows.values.writeTokens(row, nTok - sinkTok, v.subarray(sinkTok * kvDim));
    }
  }

  /** out[i·T + t] = q_i·k^_t for all T tokens; q: [nq, D] at qPtr, out: [nq, T] in the heap. */
  scores(kvHead: number, qPtr: number, out: Float32Array, nq: number): void {
    const T = this.tokens;
    this.keys.scores(this.compute, kvHead, qPtr, out.byteOffset, nq);
    const sinks = this.sinkCount;
    if (sinks > 0) this.sinkRows!.keys.scores(this.compute, kvHead, qPtr, out.byteOffset, nq, T, sinks);
    const resident = this.residentCount;
    if (resident > 0) this.residentRows.keys.scores(this.compute, kvHead, qPtr, out.byteOffset + 4 * this.firstResident, nq, T, resident);
  }

  /** out[i·D + d] = Σ_t p[i·T + t]·v^_t,d; probs: [nq, T], outPtr: [nq, D] in the heap. */
  mix(kvHead: number, probs: Float32Array, nq: number, outPtr: number): void {
    const T = this.tokens;
    this.values.mix(this.compute, kvHead, probs.byteOffset, outPtr, nq, this.scratch.mixCodes(nq, this.shape.headDim));
    if (this.sinkRows !== null) this.scratch.accumulateF16Mix(this.sinkRows.values, kvHead, probs, T, 0, this.sinkCount, nq, outPtr);
    this.scratch.accumulateF16Mix(this.residentRows.values, kvHead, probs, T, this.firstResident, this.residentCount, nq, outPtr);
  }

  /** The G full-precision values of resident token t's group g (of `part`) into out[0 .. G). */
  readResident(part: KvPart, t: number, g: number, out: Float32Array): void {
    const rows = this.residentRows[part];
    const row = t - this.firstResident;
    if (this.groupsPerToken > 1) rows.readRow(g, row, out, 0);
    else for (let h = 0; h < this.shape.nKvHeads; h++) rows.readRow(h, row, out, h * this.shape.headDim);
  }

  /** The tokens [firstResident, end) are packed now: their fp16 rows go, the later resident rows move down. */
  releaseResident(end: number): void {
    const count = end - this.firstResident;
    if (count <= 0) return;
    const rows = this.residentCount;
    this.residentRows.keys.dropFirstRows(count, rows);
    this.residentRows.values.dropFirstRows(count, rows);
    this.firstResident = end;
    this.fitResident();
  }

  /** Gives back the resident rows' spare capacity (called after every endForward). */
  fitResident(): void {
    this.residentRows.keys.fit(this.residentCount);
    this.residentRows.values.fit(this.residentCount);
  }

  /** Current code width of group (t, g) of `part` (EMPTY_WIDTH for a token held in fp16). */
  bitsOf(part: KvPart, t: number, g: number): number {
    return this[part].bitsOf(t, g);
  }

  /** Width token t of group g is held at: 16 for fp16 rows (sinks and the resident tail), else its code width. */
  storedWidth(part: KvPart, t: number, g: number): number {
    return t < this.sinks || t >= this.firstResident ? 16 : this.bitsOf(part, t, g);
  }

  /** Drops every token from `tokens` on. */
  truncate(tokens: number): void {
    this.rangeTokens = Math.min(this.rangeTokens, tokens);
    this.keys.truncate(tokens);
    this.values.truncate(tokens);
    if (tokens < this.firstResident) this.firstResident = Math.max(this.sinks, tokens);
    this.fitResident();
  }

  /**
   * Bytes the stored tokens need: packed codes, outliers, their metadata, fp16 sink and resident rows (residual) and
   * the ranges (policy bookkeeping); slack = what is allocated beyond that (metadata and range arrays' room, sink
   * rows not filled yet, resident rows' room during a forward call).
   */
  nbytes(): { codes: number; outliers: number; metadata: number; residual: number; bookkeeping: number; slack: number } {
    const keys = this.keys.nbytes();
    const values = this.values.nbytes();
    const residual = this.residentBytesFor(this.sinkCount + this.residentCount);
    const rows = this.sinkBytes() + this.residentBytes();
    return {
      codes: keys.codes + values.codes,
      outliers: keys.outliers + values.outliers,
      metadata: keys.metadata + values.metadata,
      residual,
      bookkeeping: this.rangeBytes(),
      slack: keys.slack + values.slack + rows - residual + this.rangeAllocatedBytes() - this.rangeBytes(),
    };
  }

  /** Bytes the measured tokens' ranges need (an f16 per group and part). */
  rangeBytes(): number {
    return 2 * 2 * this.groupsPerToken * Math.min(this.rangeTokens, this.tokens);
  }

  /** Bytes of the range arrays, room included. */
  rangeAllocatedBytes(): number {
    let bytes = 0;
    for (const list of [this.ranges.keys, this.ranges.values]) for (const a of list) bytes += a.byteLength;
    return bytes;
  }

  /** Bytes of the sink rows (allocated for every sink at the first one). */
  sinkBytes(): number {
    return this.sinkRows === null ? 0 : this.sinkRows.keys.byteLength + this.sinkRows.values.byteLength;
  }

  /** Bytes of the resident rows (exactly the resident tokens after an endForward). */
  residentBytes(): number {
    return this.residentRows.keys.byteLength + this.residentRows.values.byteLength;
  }

  /** Bytes `count` resident tokens take once fitted (keys and values). */
  residentBytesFor(count: number): number {
    return 2 * 2 * this.shape.nKvHeads * this.shape.headDim * count;
  }

  dispose(): void {
    this.keys.dispose();
    this.values.dispose();
    for (const rows of [this.residentRows, this.sinkRows]) {
      rows?.keys.free();
      rows?.values.free();
    }
  }

  /** Measures the ranges of the groups of the nTok tokens about to be appended (the policy's input, QAQ bookkeeping). */
  measureRanges(nTok: number, k: Float32Array, v: Float32Array, meter: GroupRangeMeter): void {
    const first = this.tokens;
    const kvDim = this.shape.nKvHeads * this.shape.headDim;
    const G = this.groupLength;
    for (const part of ["keys", "values"] as const) {
      const src = part === "keys" ? k : v;
      const lists = this.ranges[part];
      for (let g = 0; g < this.groupsPerToken; g++) {
        if (first + nTok > lists[g]!.length) {
          const grown = new Uint16Array(Math.min(this.shape.maxTokens, Math.ceil((first + nTok) / RANGE_STEP) * RANGE_STEP));
          grown.set(lists[g]!.subarray(0, first));
          lists[g] = grown;
        }
        for (let t = 0; t < nTok; t++) lists[g]![first + t] = this.rounder.roundUp(meter.range(src, t * kvDim + g * G));
      }
    }
    this.rangeTokens = first + nTok;
  }
}
