import type { Region, WasmHeap } from "../kernels/WasmHeap.js";
import { createF16Grid } from "../quant/f16Grid.js";
import { f16ToF32 } from "../quant/fp16.js";
import { dequantizeGroupPacked } from "../quant/quantizeGroup.js";
import { EMPTY_WIDTH, type PackedGroupStore } from "./PackedGroupStore.js";

/**
 * One sequence of packed groups, one group per token: the keys or values of one layer for one KV head (group=head) or
 * for the whole layer (group=layer). Layout (contract: src/kernels/packedKernelExports.ts, section 1):
 *
 *   widths [capacity/2]   u8   4-bit code width per group (0..8; EMPTY_WIDTH for a token held in fp16 elsewhere)
 *   scale  [capacity]     u16  fp16 grid step          zero [capacity] u16  fp16 grid origin
 *   blocks [capacity/256] u32  heap pointer of each block's region
 *   block j: one heap region holding the slots of groups 256j .. 256j+255 back to back, exactly their size
 *
 * No group has a pointer: its slot is found from its block's pointer and the widths before it in the block. A
 * width change rebuilds the group's block (a new region of the new exact size, the other slots copied across), so
 * nothing is ever left half empty and nothing outside the block moves: the bytes held are the bytes the groups
 * need, plus one u32 per 256 groups and the metadata arrays' capacity, which follows the group count in steps of
 * CAPACITY_STEP groups (so it is a function of the count: the budget planner can predict it). nbytes() reports as
 * metadata what the live groups need (half a byte of width, two f16, a quarter of a u32 block pointer per 256) and
 * the arrays' room beyond them as slack.
 */
export const BLOCK_GROUPS = 256;
export const CAPACITY_STEP = 32;

/** One group to (re)write: its index, new width and full-precision source values[offset .. offset + G). */
export interface GroupWrite {
  readonly index: number;
  readonly bits: number;
  readonly values: Float32Array;
  readonly offset: number;
}

export class PackedSequence {
  private widthRegion: Region | null = null;
  private scaleRegion: Region | null = null;
  private zeroRegion: Region | null = null;
  private blockTable: Region | null = null;
  private readonly blocks: (Region | null)[] = [];
  private capacity = 0;
  private count = 0;
  private codeTotal = 0;
  private outlierTotal = 0;
  private readonly grid = createF16Grid();
  /** [16] slot bytes and code bytes per width nibble (0 for the empty width) */
  private readonly slotSize = new Int32Array(16);
  private readonly codeSize = new Int32Array(16);
  /** scratch: the old widths of the block being rebuilt */
  private readonly blockWidths = new Uint8Array(BLOCK_GROUPS);
  private readonly blockWhat: string;

  constructor(
    private readonly heap: WasmHeap,
    readonly store: PackedGroupStore,
    private readonly what: string,
  ) {
    for (let b = 0; b <= 8; b++) {
      this.slotSize[b] = store.slotBytes(b);
      this.codeSize[b] = store.codeBytes(b);
    }
    this.blockWhat = `${what} (code block)`;
  }

  get length(): number {
    return this.count;
  }

  /** Metadata bytes `count` live groups need (widths, scales, zeros, block table): nbytes().metadata. */
  static metadataBytes(count: number): number {
    return Math.ceil(count / 2) + 4 * count + 4 * Math.ceil(count / BLOCK_GROUPS);
  }

  /** Metadata bytes allocated for `count` groups (capacity rounded up to CAPACITY_STEP): metadata + slack. */
  static allocatedMetadataBytes(count: number): number {
    const capacity = capacityFor(count);
    return capacity / 2 + 4 * capacity + 4 * Math.ceil(capacity / BLOCK_GROUPS);
  }

  width(m: number): number {
    return (this.bytes()[this.widthRegion!.ptr + (m >> 1)]! >> ((m & 1) * 4)) & 15;
  }

  /** out[m − first] = width(m) for m in [first, end): one pass over the nibbles (the planner's per-step read). */
  readWidths(first: number, end: number, out: Uint8Array): void {
    const bytes = this.bytes();
    const base = this.widthRegion?.ptr ?? 0;
    for (let m = first; m < end; m++) out[m - first] = (bytes[base + (m >> 1)]! >> ((m & 1) << 2)) & 15;
  }

  /** Appends n empty groups. */
  appendEmpty(n: number): void {
    const first = this.count;
    this.resize(first + n);
    const bytes = this.bytes();
    for (let m = first; m < first + n; m++) setNibble(bytes, this.widthRegion!.ptr, m, EMPTY_WIDTH);
  }

  /** (Re)writes groups (indices ascending, each < length): every touched block is rebuilt once. */
  write(writes: readonly GroupWrite[]): void {
    let i = 0;
    while (i < writes.length) {
      const block = Math.floor(writes[i]!.index / BLOCK_GROUPS);
      let j = i;
      while (j < writes.length && Math.floor(writes[j]!.index / BLOCK_GROUPS) === block) j++;
      this.rebuild(block, writes, i, j, this.blockEnd(block));
      i = j;
    }
  }

  /** Keeps the first n groups. */
  truncate(n: number): void {
    if (n >= this.count) return;
    const keepBlocks = Math.ceil(n / BLOCK_GROUPS);
    for (let b = this.blocks.length - 1; b >= keepBlocks; b--) {
      this.dropBlockTotals(b, this.blockEnd(b));
      this.freeBlock(b);
      this.blocks.pop();
    }
    if (n % BLOCK_GROUPS !== 0) this.rebuild(keepBlocks - 1, [], 0, 0, n);
    if (this.blockTable !== null) {
      const table = new Uint32Array(this.heap.memory.buffer, this.blockTable.ptr, Math.ceil(this.capacity / BLOCK_GROUPS));
      table.fill(0, keepBlocks);
    }
    this.resize(n);
  }

  /** Decodes group m (G values, outliers patched in) into out[outOffset .. outOffset + G); an empty group reads 0. */
  read(m: number, out: Float32Array, outOffset: number): void {
    const G = this.store.groupLength;
    const bits = this.width(m);
    if (bits === EMPTY_WIDTH) {
      out.fill(0, outOffset, outOffset + G);
      return;
    }
    const slot = this.slotOf(m);
    const bytes = this.bytes();
    const nOut = this.store.nOut;
    const codeBytes = this.store.codeBytes(bits);
    const values = new Uint16Array(bytes.slice(slot + codeBytes, slot + codeBytes + 2 * nOut).buffer);
    const at = slot + codeBytes + 2 * nOut;
    const positions = this.store.positionBytes === 1 ? bytes.slice(at, at + nOut) : new Uint16Array(bytes.slice(at, at + 2 * nOut).buffer);
    const scale = f16ToF32(new Uint16Array(bytes.buffer, this.scaleRegion!.ptr + 2 * m, 1)[0]!);
    const zero = f16ToF32(new Uint16Array(bytes.buffer, this.zeroRegion!.ptr + 2 * m, 1)[0]!);
    dequantizeGroupPacked(bytes, slot, G, bits, scale, zero, positions, values, 0, nOut, out, outOffset);
  }

  /** fp16 bits of group m's grid origin. */
  zeroBits(m: number): number {
    return new Uint16Array(this.heap.memory.buffer, this.zeroRegion!.ptr + 2 * m, 1)[0]!;
  }

  /** fp16 bits of group m's grid step. */
  scaleBits(m: number): number {
    return new Uint16Array(this.heap.memory.buffer, this.scaleRegion!.ptr + 2 * m, 1)[0]!;
  }

  /** The kernels' (blocks, bits, scale, zero) pointers. */
  kernelPointers(): number[] {
    return [this.blockTable, this.widthRegion, this.scaleRegion, this.zeroRegion].map((r) => r?.ptr ?? 0);
  }

  /**
   * Bytes held: slot codes, slot outliers, metadata the live groups need (widths, scales, zeros, block table) and
   * slack, the metadata arrays' room beyond the live groups (allocated = metadata + slack, from the regions' sizes).
   */
  nbytes(): { codes: number; outliers: number; metadata: number; slack: number } {
    const allocated = [this.widthRegion, this.scaleRegion, this.zeroRegion, this.blockTable].reduce((sum, r) => sum + (r?.byteLength ?? 0), 0);
    const metadata = PackedSequence.metadataBytes(this.count);
    return { codes: this.codeTotal, outliers: this.outlierTotal, metadata, slack: allocated - metadata };
  }

  dispose(): void {
    this.truncate(0);
    for (const region of [this.widthRegion, this.scaleRegion, this.zeroRegion, this.blockTable]) if (region !== null) this.heap.free(region);
    this.widthRegion = this.scaleRegion = this.zeroRegion = this.blockTable = null;
    this.capacity = 0;
  }

  /** Address of group m's slot (the walk the kernels do). */
  slotOf(m: number): number {
    const b = Math.floor(m / BLOCK_GROUPS);
    let ptr = this.blocks[b]?.ptr ?? 0;
    for (let j = b * BLOCK_GROUPS; j < m; j++) ptr += this.slotSize[this.width(j)]!;
    return ptr;
  }

  private blockEnd(block: number): number {
    return Math.min(this.count, (block + 1) * BLOCK_GROUPS);
  }

  /** A view of the whole heap (valid until the next allocation). */
  private bytes(): Uint8Array {
    return this.heap.bytes;
  }

  /**
   * Rebuilds block b with groups [first, end): unchanged slots copied, writes[from .. to) quantized, into an exact
   * region. One pass over the block's width nibbles reads the old sizes; the totals change by the written groups only.
   */
  private rebuild(b: number, writes: readonly GroupWrite[], from0: number, to0: number, end: number): void {
    const first = b * BLOCK_GROUPS;
    const oldEnd = this.blockEnd(b);
    const widthBase = this.widthRegion!.ptr;
    const oldWidths = this.blockWidths;
    let bytes = this.bytes();
    let oldSize = 0;
    for (let m = first; m < oldEnd; m++) {
      const w = (bytes[widthBase + (m >> 1)]! >> ((m & 1) << 2)) & 15;
      oldWidths[m - first] = w;
      if (m < end) oldSize += this.slotSize[w]!;
    }
    // groups past `end` (truncate) leave the totals; written groups swap their old width's bytes for the new one's
    for (let m = end; m < oldEnd; m++) this.addWidth(oldWidths[m - first]!, -1);
    let size = oldSize;
    for (let k = from0; k < to0; k++) {
      const write = writes[k]!;
      const old = oldWidths[write.index - first]!;
      size += this.slotSize[write.bits]! - this.slotSize[old]!;
      this.addWidth(old, -1);
      this.addWidth(write.bits, 1);
    }
    const old = this.blocks[b] ?? null;
    const region = size > 0 ? this.heap.alloc(size, this.blockWhat) : null;
    bytes = this.bytes();
    const scales = this.scales();
    const zeros = this.zeros();
    let from = old?.ptr ?? 0;
    let to = region?.ptr ?? 0;
    // unchanged slots move in runs (one copy per run between written groups)
    let runFrom = from;
    let runTo = to;
    for (let k = from0; k < to0; k++) {
      const write = writes[k]!;
      const m = write.index;
      // skip the unchanged slots before m: they join the current run
      for (let j = k === from0 ? first : writes[k - 1]!.index + 1; j < m; j++) {
        const oldSlot = this.slotSize[oldWidths[j - first]!]!;
        from += oldSlot;
        to += oldSlot;
      }
      if (from > runFrom) bytes.copyWithin(runTo, runFrom, from);
      this.store.writeAt(to, write.values, write.offset, write.bits, this.grid);
      const at = widthBase + (m >> 1);
      const shift = (m & 1) << 2;
      bytes[at] = (bytes[at]! & ~(15 << shift)) | (write.bits << shift);
      scales[m] = this.grid.scaleBits;
      zeros[m] = this.grid.zeroBits;
      from += this.slotSize[oldWidths[m - first]!]!;
      to += this.slotSize[write.bits]!;
      runFrom = from;
      runTo = to;
    }
    // the rest of the block (up to `end`) is one run
    const lastWritten = to0 > from0 ? writes[to0 - 1]!.index + 1 : first;
    for (let j = lastWritten; j < end; j++) from += this.slotSize[oldWidths[j - first]!]!;
    if (from > runFrom) bytes.copyWithin(runTo, runFrom, from);
    if (old !== null) this.heap.free(old);
    while (this.blocks.length <= b) this.blocks.push(null);
    this.blocks[b] = region;
    new Uint32Array(bytes.buffer, this.blockTable!.ptr, Math.ceil(this.capacity / BLOCK_GROUPS))[b] = region?.ptr ?? 0;
  }

  /** Adds (sign +1) or removes (−1) one group of width `bits` from the code and outlier totals. */
  private addWidth(bits: number, sign: number): void {
    if (bits === EMPTY_WIDTH) return;
    this.codeTotal += sign * this.codeSize[bits]!;
    this.outlierTotal += sign * this.store.outlierBytes;
  }

  private scales(): Uint16Array {
    const bytes = this.bytes();
    return new Uint16Array(bytes.buffer, this.scaleRegion!.ptr, this.capacity);
  }

  private zeros(): Uint16Array {
    const bytes = this.bytes();
    return new Uint16Array(bytes.buffer, this.zeroRegion!.ptr, this.capacity);
  }

  private dropBlockTotals(b: number, end: number): void {
    const widths = new Uint8Array(end - b * BLOCK_GROUPS);
    for (let m = b * BLOCK_GROUPS; m < end; m++) widths[m - b * BLOCK_GROUPS] = this.width(m);
    this.addTotals(widths, -1);
  }

  private addTotals(widths: Uint8Array, sign: number): void {
    let codes = 0;
    let groups = 0;
    for (let i = 0; i < widths.length; i++) {
      const bits = widths[i]!;
      if (bits === EMPTY_WIDTH) continue;
      codes += this.codeSize[bits]!;
      groups++;
    }
    this.codeTotal += sign * codes;
    this.outlierTotal += sign * groups * this.store.outlierBytes;
  }

  private freeBlock(b: number): void {
    const region = this.blocks[b];
    if (region) this.heap.free(region);
    this.blocks[b] = null;
  }

  /** Sets the count to n; the metadata arrays follow capacityFor(n), keeping the first min(old, n) entries. */
  private resize(n: number): void {
    const capacity = capacityFor(n);
    if (capacity !== this.capacity) {
      const keep = Math.min(this.count, n);
      const keepBlocks = Math.ceil(keep / BLOCK_GROUPS);
      this.widthRegion = this.realloc(this.widthRegion, capacity / 2, Math.ceil(keep / 2), "code widths");
      this.scaleRegion = this.realloc(this.scaleRegion, 2 * capacity, 2 * keep, "scales");
      this.zeroRegion = this.realloc(this.zeroRegion, 2 * capacity, 2 * keep, "zeros");
      this.blockTable = this.realloc(this.blockTable, 4 * Math.ceil(capacity / BLOCK_GROUPS), 4 * keepBlocks, "block table");
      this.capacity = capacity;
    }
    this.count = n;
  }

  private realloc(region: Region | null, bytes: number, keep: number, what: string): Region | null {
    if (bytes === 0) {
      if (region !== null) this.heap.free(region);
      return null;
    }
    const next = this.heap.alloc(bytes, `${this.what} ${what}`);
    const memory = this.bytes();
    memory.fill(0, next.ptr, next.ptr + bytes);
    if (region !== null) {
      memory.copyWithin(next.ptr, region.ptr, region.ptr + Math.min(keep, bytes));
      this.heap.free(region);
    }
    return next;
  }
}

/** Metadata capacity for `count` groups: the next multiple of CAPACITY_STEP. */
function capacityFor(count: number): number {
  return Math.ceil(count / CAPACITY_STEP) * CAPACITY_STEP;
}

function setNibble(bytes: Uint8Array, base: number, m: number, value: number): void {
  const at = base + (m >> 1);
  const shift = (m & 1) * 4;
  bytes[at] = (bytes[at]! & ~(15 << shift)) | (value << shift);
}
