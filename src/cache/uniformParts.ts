import type { Compute } from "../kernels/Compute.js";
import type { AttentionScratch } from "./AttentionScratch.js";
import { F16Rows } from "./F16Rows.js";
import { PackedPart, type GroupScope } from "./PackedPart.js";
import type { PackedGroupStore } from "./PackedGroupStore.js";
import type { BitsTally } from "./paperBits.js";

/**
 * The two ways the uniform cache stores one part (keys or values) of one layer, behind one small interface:
 * - Fp16Part (width 16): every token as fp16 rows [nKvHeads, capacity, D], read by the f16 kernels;
 * - QuantizedPart (width 0..8): every token in a PackedPart; the first `sinks` tokens are kept as fp16 rows
 *   [nKvHeads, sinks, D] instead and their packed groups are empty (no slot, 0 in the packed kernels), so attention
 *   = packed kernel over all T tokens, then the sink columns overwritten (scores) or added (mix) from fp16.
 * Source rows: [nTok, nKvHeads·D] f32. Logits and probabilities: [nq, T] f32 in the heap (the pointer for logits, the
 * view for probabilities, whose sink columns may be copied out); queries [nq, D] and outputs [nq, D] by pointer.
 */
export interface UniformPartStorage {
  readonly tokens: number;
  append(src: Float32Array, nTok: number): void;
  scores(kvHead: number, qPtr: number, outPtr: number, nq: number): void;
  mix(kvHead: number, probs: Float32Array, nq: number, outPtr: number): void;
  truncate(tokens: number): void;
  /** adds this part's widths (paper counting) to the tally */
  tallyBits(tally: BitsTally): void;
  /** bytes of codes (fp16 rows count as codes), metadata, outliers and sink rows the stored tokens need, and the
   * capacity allocated beyond them (slack) */
  nbytes(): { codes: number; metadata: number; outliers: number; residual: number; slack: number };
  dispose(): void;
}

export class Fp16Part implements UniformPartStorage {
  readonly rows: F16Rows;
  private count = 0;

  constructor(
    private readonly compute: Compute,
    nKvHeads: number,
    headDim: number,
    maxTokens: number,
    what: string,
  ) {
    this.rows = new F16Rows(compute.heap, nKvHeads, headDim, maxTokens, what);
  }

  get tokens(): number {
    return this.count;
  }

  append(src: Float32Array, nTok: number): void {
    this.rows.ensureRows(this.count + nTok, this.count);
    this.rows.writeTokens(this.count, nTok, src);
    this.count += nTok;
  }

  scores(kvHead: number, qPtr: number, outPtr: number, nq: number): void {
    this.rows.scores(this.compute, kvHead, qPtr, outPtr, nq, this.count, this.count);
  }

  mix(kvHead: number, probs: Float32Array, nq: number, outPtr: number): void {
    this.rows.mix(this.compute, kvHead, probs.byteOffset, outPtr, nq, this.count);
  }

  truncate(tokens: number): void {
    this.count = Math.min(this.count, tokens);
  }

  tallyBits(tally: BitsTally): void {
    tally.add(this.count * this.rows.nKvHeads * this.rows.headDim, 16);
  }

  nbytes(): { codes: number; metadata: number; outliers: number; residual: number; slack: number } {
    // rows grow by doubling: the stored tokens' rows are the codes, the room beyond them slack
    const codes = 2 * this.count * this.rows.nKvHeads * this.rows.headDim;
    return { codes, metadata: 0, outliers: 0, residual: 0, slack: this.rows.byteLength - codes };
  }

  dispose(): void {
    this.rows.free();
  }
}

export class QuantizedPart implements UniformPartStorage {
  readonly packed: PackedPart;
  /** fp16 copies of the first `sinks` tokens (null without sinks) */
  readonly sinkRows: F16Rows | null;

  constructor(
    private readonly compute: Compute,
    private readonly scratch: AttentionScratch,
    store: PackedGroupStore,
    scope: GroupScope,
    readonly bits: number,
    readonly sinks: number,
    nKvHeads: number,
    headDim: number,
    maxTokens: number,
    what: string,
  ) {
    this.packed = new PackedPart(store, scope, nKvHeads, headDim, maxTokens, what);
    this.sinkRows = sinks > 0 ? new F16Rows(compute.heap, nKvHeads, headDim, sinks, `${what} sink tokens`) : null;
  }

  get tokens(): number {
    return this.packed.tokens;
  }

  /** Sink tokens stored (fp16). */
  get sinkCount(): number {
    return Math.min(this.sinks, this.tokens);
  }

  append(src: Float32Array, nTok: number): void {
    const first = this.tokens;
    const sinkTok = Math.max(0, Math.min(nTok, this.sinks - first));
    if (sinkTok > 0) {
      this.sinkRows!.ensureRows(this.sinks, first);
      this.sinkRows!.writeTokens(first, sinkTok, src);
      this.packed.appendEmpty(sinkTok);
    }
    const kvDim = this.packed.nKvHeads * this.packed.headDim;
    if (nTok > sinkTok) this.packed.appendQuantized(src.subarray(sinkTok * kvDim), nTok - sinkTok, this.bits);
  }

  scores(kvHead: number, qPtr: number, outPtr: number, nq: number): void {
    this.packed.scores(this.compute, kvHead, qPtr, outPtr, nq);
    const sinks = this.sinkCount;
    if (sinks > 0) this.sinkRows!.scores(this.compute, kvHead, qPtr, outPtr, nq, this.tokens, sinks);
  }

  mix(kvHead: number, probs: Float32Array, nq: number, outPtr: number): void {
    this.packed.mix(this.compute, kvHead, probs.byteOffset, outPtr, nq, this.scratch.mixCodes(nq, this.packed.headDim));
    const sinks = this.sinkCount;
    if (sinks > 0) this.scratch.accumulateF16Mix(this.sinkRows!, kvHead, probs, this.tokens, 0, sinks, nq, outPtr);
  }

  truncate(tokens: number): void {
    this.packed.truncate(tokens);
  }

  tallyBits(tally: BitsTally): void {
    const kvDim = this.packed.nKvHeads * this.packed.headDim;
    const sinks = this.sinkCount;
    tally.add(sinks * kvDim, 16);
    tally.add(this.packed.store.groupLength, this.packed.codeBitsSum(sinks, this.tokens));
    tally.outliers(this.packed.packedGroups(sinks, this.tokens) * this.packed.store.nOut);
  }

  nbytes(): { codes: number; metadata: number; outliers: number; residual: number; slack: number } {
    const packed = this.packed.nbytes();
    // sink rows are allocated for all sinks at once: those not stored yet are slack
    const sinkBytes = 2 * this.sinkCount * this.packed.nKvHeads * this.packed.headDim;
    const sinkSlack = (this.sinkRows?.byteLength ?? 0) - sinkBytes;
    return { codes: packed.codes, metadata: packed.metadata, outliers: packed.outliers, residual: sinkBytes, slack: packed.slack + sinkSlack };
  }

  dispose(): void {
    this.packed.dispose();
    this.sinkRows?.free();
  }
}
