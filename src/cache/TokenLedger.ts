import type { WasmHeap } from "../kernels/WasmHeap.js";
import { GrowableRegion } from "./GrowableRegion.js";

/**
 * Per-group metadata of one packed part (the keys or the values of one layer), in structure-of-arrays form in the
 * wasm heap so that the packed attention kernels index it directly. Group m = token·groupsPerToken + g.
 *
 *   slot  [capacity·groupsPerToken] u32  pointer of the group's slot in a SlabArena (0: nothing stored)
 *   bits  [capacity·groupsPerToken] u8   code width 0..8
 *   scale [capacity·groupsPerToken] u16  fp16 bits of the grid step
 *   zero  [capacity·groupsPerToken] u16  fp16 bits of the grid origin
 *
 * A token is re-quantized by rewriting its own entries (and moving its slot to another size class): neighbours never
 * move. An empty entry (all zero) reconstructs every value as 0 + (c + 0.5)·0 = 0, which is how tokens held in full
 * precision elsewhere (sinks, a residual window) take part in a kernel call over all tokens without contributing.
 * Capacity grows by doubling (at least 64 tokens, at most maxTokens); the pointers change on growth.
 */
export interface LedgerViews {
  readonly slot: Uint32Array;
  readonly bits: Uint8Array;
  readonly scale: Uint16Array;
  readonly zero: Uint16Array;
}

const MIN_CAPACITY_TOKENS = 64;

export class TokenLedger {
  private readonly slotArray: GrowableRegion;
  private readonly bitsArray: GrowableRegion;
  private readonly scaleArray: GrowableRegion;
  private readonly zeroArray: GrowableRegion;
  private capacity = 0;
  private count = 0;

  constructor(
    private readonly heap: WasmHeap,
    readonly groupsPerToken: number,
    private readonly maxTokens: number,
    what: string,
  ) {
    this.slotArray = new GrowableRegion(heap, `${what} slot pointers`);
    this.bitsArray = new GrowableRegion(heap, `${what} bit widths`);
    this.scaleArray = new GrowableRegion(heap, `${what} scales`);
    this.zeroArray = new GrowableRegion(heap, `${what} zeros`);
  }

  /** Tokens with entries. */
  get tokens(): number {
    return this.count;
  }

  get slotPtr(): number {
    return this.slotArray.ptr;
  }
  get bitsPtr(): number {
    return this.bitsArray.ptr;
  }
  get scalePtr(): number {
    return this.scaleArray.ptr;
  }
  get zeroPtr(): number {
    return this.zeroArray.ptr;
  }

  /** Appends `n` tokens with empty entries; returns the first new token. */
  addTokens(n: number): number {
    const first = this.count;
    const needed = first + n;
    if (needed > this.maxTokens) throw new RangeError(`token ledger: ${needed} tokens exceed its limit of ${this.maxTokens}`);
    if (needed > this.capacity) this.grow(needed);
    this.count = needed;
    return first;
  }

  /** Views of the four arrays over every existing group; valid until the next addTokens. */
  views(): LedgerViews {
    const buffer = this.heap.memory.buffer;
    const groups = this.count * this.groupsPerToken;
    if (groups === 0) return { slot: new Uint32Array(0), bits: new Uint8Array(0), scale: new Uint16Array(0), zero: new Uint16Array(0) };
    return {
      slot: new Uint32Array(buffer, this.slotArray.ptr, groups),
      bits: new Uint8Array(buffer, this.bitsArray.ptr, groups),
      scale: new Uint16Array(buffer, this.scaleArray.ptr, groups),
      zero: new Uint16Array(buffer, this.zeroArray.ptr, groups),
    };
  }

  /**
   * Forgets every token from `tokens` on, clearing their entries; the caller has released their slots.
   */
  truncate(tokens: number): void {
    if (tokens >= this.count) return;
    const v = this.views();
    const from = tokens * this.groupsPerToken;
    v.slot.fill(0, from);
    v.bits.fill(0, from);
    v.scale.fill(0, from);
    v.zero.fill(0, from);
    this.count = tokens;
  }

  /** Bytes of the four arrays (allocated capacity, not just the entries in use). */
  nbytes(): number {
    return this.slotArray.byteLength + this.bitsArray.byteLength + this.scaleArray.byteLength + this.zeroArray.byteLength;
  }

  dispose(): void {
    for (const array of [this.slotArray, this.bitsArray, this.scaleArray, this.zeroArray]) array.free();
    this.capacity = 0;
    this.count = 0;
  }

  private grow(needed: number): void {
    let capacity = Math.max(this.capacity * 2, MIN_CAPACITY_TOKENS);
    while (capacity < needed) capacity *= 2;
    capacity = Math.min(capacity, this.maxTokens);
    const groups = capacity * this.groupsPerToken;
    const used = this.count * this.groupsPerToken;
    this.slotArray.ensure(groups * 4, used * 4);
    this.bitsArray.ensure(groups, used);
    this.scaleArray.ensure(groups * 2, used * 2);
    this.zeroArray.ensure(groups * 2, used * 2);
    this.capacity = capacity;
  }
}
