import type { Compute } from "../kernels/Compute.js";
import { EMPTY_WIDTH, type PackedGroupStore } from "./PackedGroupStore.js";
import { PackedSequence, type GroupWrite } from "./PackedSequence.js";
import { parallelOverDims, parallelOverTokens } from "./attentionSupport.js";
import { packedLayoutArgs, type PackedPartLayout } from "../kernels/reference/packedAttentionRef.js";

/**
 * The keys or the values of one layer as per-group packed codes: one PackedSequence per group index g (one per KV
 * head for group=head, G = headDim; a single one for group=layer, G = nKvHeads·headDim, the token's whole K or V
 * vector in this layer). Every token has a group in every sequence; tokens held in full precision elsewhere (sinks,
 * a residual or young tail) have empty groups, which take no slot bytes and read as 0 in the packed kernels, so
 * attention runs the kernels over all tokens and the fp16 segments are added by their owner.
 * Source rows handed to append: [nTok, nKvHeads·headDim] f32, head h at columns [h·D, (h+1)·D).
 */
export type GroupScope = "head" | "layer";

export class PackedPart {
  readonly groupsPerToken: number;
  readonly sequences: readonly PackedSequence[];

  constructor(
    readonly store: PackedGroupStore,
    readonly scope: GroupScope,
    readonly nKvHeads: number,
    readonly headDim: number,
    readonly maxTokens: number,
    what: string,
  ) {
    this.groupsPerToken = scope === "head" ? nKvHeads : 1;
    const groupLength = scope === "head" ? headDim : nKvHeads * headDim;
    if (store.groupLength !== groupLength) throw new Error(`${what}: store groups of ${store.groupLength}, part needs ${groupLength}`);
    this.sequences = Array.from({ length: this.groupsPerToken }, (_, g) => new PackedSequence(store.heap, store, `${what} group ${g}`));
  }

  get tokens(): number {
    return this.sequences[0]!.length;
  }

  /** Quantizes nTok source rows (see the class comment) at `bits` and appends them. */
  appendQuantized(src: Float32Array, nTok: number, bits: number): void {
    const first = this.tokens;
    this.appendEmpty(nTok);
    const kvDim = this.nKvHeads * this.headDim;
    const G = this.store.groupLength;
    for (let g = 0; g < this.groupsPerToken; g++) {
      const writes: GroupWrite[] = [];
      for (let t = 0; t < nTok; t++) writes.push({ index: first + t, bits, values: src, offset: t * kvDim + g * G });
      this.sequences[g]!.write(writes);
    }
  }

  /** Appends nTok tokens with empty groups (held in full precision elsewhere; quantized later with setGroups). */
  appendEmpty(nTok: number): void {
    if (this.tokens + nTok > this.maxTokens) throw new RangeError(`packed part: ${this.tokens + nTok} tokens exceed its limit of ${this.maxTokens}`);
    for (const sequence of this.sequences) sequence.appendEmpty(nTok);
  }

  /** (Re-)quantizes groups of sequence g (writes ascending by token) from full-precision values; no other block moves. */
  setGroups(g: number, writes: readonly GroupWrite[]): void {
    if (writes.length > 0) this.sequences[g]!.write(writes);
  }

  /** Code width of token t's group g (EMPTY_WIDTH when the token is held elsewhere). */
  bitsOf(t: number, g: number): number {
    return this.sequences[g]!.width(t);
  }

  /** out[t − first] = code width of token t's group g for t in [first, end) (one pass; EMPTY_WIDTH for fp16 tokens). */
  readWidths(g: number, first: number, end: number, out: Uint8Array): void {
    this.sequences[g]!.readWidths(first, end, out);
  }

  /** fp16 bits of the grid step of token t's group g (0 for an empty group). */
  scaleBitsOf(t: number, g: number): number {
    return this.sequences[g]!.scaleBits(t);
  }

  /** fp16 bits of the grid origin of token t's group g. */
  zeroBitsOf(t: number, g: number): number {
    return this.sequences[g]!.zeroBits(t);
  }

  /** Address of token t's group g's slot (derived from its block and the widths before it). */
  slotOf(t: number, g: number): number {
    return this.sequences[g]!.slotOf(t);
  }

  /** Decodes token t's group g into out[outOffset .. outOffset + G). */
  readGroup(t: number, g: number, out: Float32Array, outOffset: number): void {
    this.sequences[g]!.read(t, out, outOffset);
  }

  /** Sum of the code widths of the non-empty groups of tokens [first, end). */
  codeBitsSum(first: number, end: number): number {
    let sum = 0;
    for (const sequence of this.sequences) {
      for (let t = first; t < end; t++) {
        const bits = sequence.width(t);
        if (bits !== EMPTY_WIDTH) sum += bits;
      }
    }
    return sum;
  }

  /** Non-empty groups of tokens [first, end). */
  packedGroups(first: number, end: number): number {
    let count = 0;
    for (const sequence of this.sequences) for (let t = first; t < end; t++) if (sequence.width(t) !== EMPTY_WIDTH) count++;
    return count;
  }

  /** Drops tokens from `tokens` on. */
  truncate(tokens: number): void {
    for (const sequence of this.sequences) sequence.truncate(tokens);
  }

  /** Bytes of every sequence: slot codes, slot outliers, metadata of the live groups, and the metadata's room (slack). */
  nbytes(): { codes: number; outliers: number; metadata: number; slack: number } {
    let codes = 0;
    let outliers = 0;
    let metadata = 0;
    let slack = 0;
    for (const sequence of this.sequences) {
      const b = sequence.nbytes();
      codes += b.codes;
      outliers += b.outliers;
      metadata += b.metadata;
      slack += b.slack;
    }
    return { codes, outliers, metadata, slack };
  }

  /**
   * out[i·T + t] = q_i · x^_t for every token t of the part, KV head `kvHead`; q: [nq, D] f32 at qPtr, out: rows of
   * T = this.tokens floats at outPtr.
   */
  scores(compute: Compute, kvHead: number, qPtr: number, outPtr: number, nq: number): void {
    const T = this.tokens;
    parallelOverTokens(compute, "attn_scores_packed", T, nq * this.headDim, [qPtr, outPtr, nq, this.headDim, T, ...this.kernelLayout(kvHead)]);
  }

  /**
   * out[i·D + d] = Σ_t p[i·T + t] · x^_t,d (overwrites out); p: [nq, T = this.tokens] f32 at pPtr; scratchPtr:
   * mix_scratch_bytes(nq, D) bytes of working memory (AttentionScratch.mixCodes).
   */
  mix(compute: Compute, kvHead: number, pPtr: number, outPtr: number, nq: number, scratchPtr: number): void {
    const T = this.tokens;
    const args = [pPtr, scratchPtr, outPtr, nq, this.headDim, T, ...this.kernelLayout(kvHead)];
    parallelOverDims(compute, "attn_mix_packed", this.headDim, T * nq * this.headDim, args);
  }

  dispose(): void {
    for (const sequence of this.sequences) sequence.dispose();
  }

  /** Where KV head `kvHead`'s values sit (the kernels' layout arguments, src/kernels/packedKernelExports.ts). */
  layout(kvHead: number): PackedPartLayout {
    const head = this.scope === "head";
    const [blocks, bits, scale, zero] = this.sequences[head ? kvHead : 0]!.kernelPointers() as [number, number, number, number];
    return { blocks, bits, scale, zero, elemOffset: head ? 0 : kvHead * this.headDim, groupLen: this.store.groupLength, nOut: this.store.nOut };
  }

  private kernelLayout(kvHead: number): number[] {
    return packedLayoutArgs(this.layout(kvHead));
  }
}
