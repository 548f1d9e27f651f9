import type { Compute } from "../kernels/Compute.js";
import { createF16Grid } from "../quant/f16Grid.js";
import type { PackedGroupStore } from "./PackedGroupStore.js";
import { TokenLedger } from "./TokenLedger.js";
import { parallelOverDims, parallelOverTokens } from "./attentionSupport.js";

/**
 * The keys or the values of one layer as per-group packed codes (packed-layout note, section 1): a TokenLedger of
 * per-group metadata plus one slot per group in a shared PackedGroupStore. Attention runs the packed kernels over
 * every token of the ledger; tokens held in full precision elsewhere have empty entries and contribute 0.
 *
 * Groups: "head" = (token, KV head), G = headDim values; "layer" = (token), G = nKvHeads·headDim values (the whole
 * K or V vector of the token in this layer). Group m = token·groupsPerToken + g.
 * Source rows handed to append: [nTok, nKvHeads·headDim] f32, head h at columns [h·D, (h+1)·D).
 */
export type GroupScope = "head" | "layer";

export class PackedPart {
  readonly ledger: TokenLedger;
  readonly groupsPerToken: number;
  private readonly grid = createF16Grid();

  constructor(
    readonly store: PackedGroupStore,
    readonly scope: GroupScope,
    readonly nKvHeads: number,
    readonly headDim: number,
    maxTokens: number,
    what: string,
  ) {
    this.groupsPerToken = scope === "head" ? nKvHeads : 1;
    const groupLength = scope === "head" ? headDim : nKvHeads * headDim;
    if (store.groupLength !== groupLength) throw new Error(`${what}: store groups of ${store.groupLength}, part needs ${groupLength}`);
    this.ledger = new TokenLedger(store.arena.heap, this.groupsPerToken, maxTokens, what);
  }

  get tokens(): number {
    return this.ledger.tokens;
  }

  /** Quantizes nTok source rows (see the class comment) at `bits` and appends them. */
  appendQuantized(src: Float32Array, nTok: number, bits: number): void {
    const first = this.ledger.addTokens(nTok);
    const G = this.store.groupLength;
    for (let t = 0; t < nTok; t++) {
      for (let g = 0; g < this.groupsPerToken; g++) this.setGroup((first + t) * this.groupsPerToken + g, src, t * this.nKvHeads * this.headDim + g * G, bits);
    }
  }

  /** Appends nTok tokens with empty entries (held in full precision elsewhere; quantized later with setGroup). */
  appendEmpty(nTok: number): void {
    const first = this.ledger.addTokens(nTok);
    const zeroSlot = this.store.zeroSlot();
    if (zeroSlot !== 0) this.ledger.views().slot.fill(zeroSlot, first * this.groupsPerToken);
  }

  /**
   * (Re-)quantizes group m from values[offset .. offset+G) at `bits`: its old slot goes back to its size class, a slot
   * of the new class is taken, and no other group moves. Re-quantize from full-precision values only.
   */
  setGroup(m: number, values: Float32Array, offset: number, bits: number): void {
    const old = this.ledger.views();
    this.store.release(old.bits[m]!, old.slot[m]!);
    const slot = this.store.write(values, offset, bits, this.grid);
    const v = this.ledger.views();
    v.slot[m] = slot;
    v.bits[m] = bits;
    v.scale[m] = this.grid.scaleBits;
    v.zero[m] = this.grid.zeroBits;
  }

  /** Sum of the code widths of the groups of tokens [first, end). */
  codeBitsSum(first: number, end: number): number {
    const bits = this.ledger.views().bits;
    let sum = 0;
    for (let m = first * this.groupsPerToken; m < end * this.groupsPerToken; m++) sum += bits[m]!;
    return sum;
  }

  /** Drops tokens from `tokens` on, giving their slots back. */
  truncate(tokens: number): void {
    if (tokens >= this.tokens) return;
    const v = this.ledger.views();
    for (let m = tokens * this.groupsPerToken; m < v.slot.length; m++) this.store.release(v.bits[m]!, v.slot[m]!);
    this.ledger.truncate(tokens);
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
    this.truncate(0);
    this.ledger.dispose();
  }

  /** The kernels' (slot, bits, scale, zero, metaStride, metaIndex, elemOffset, groupLen, nOut) for one KV head. */
  private kernelLayout(kvHead: number): number[] {
    const l = this.ledger;
    const head = this.scope === "head";
    const metaIndex = head ? kvHead : 0;
    const elemOffset = head ? 0 : kvHead * this.headDim;
    return [l.slotPtr, l.bitsPtr, l.scalePtr, l.zeroPtr, this.groupsPerToken, metaIndex, elemOffset, this.store.groupLength, this.store.nOut];
  }
}
