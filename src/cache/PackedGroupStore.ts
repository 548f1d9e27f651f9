import type { WasmHeap } from "../kernels/WasmHeap.js";
import { packCodes, packedByteLength } from "../quant/bitpack.js";
import { checkCodeBits } from "../quant/checkArgs.js";
import { createF16Grid, quantizeF16Grid, type F16Grid } from "../quant/f16Grid.js";
import { markOutliers, outlierCountPerSide, selectOutliers } from "../quant/outliers.js";
import type { UniformMethod } from "../quant/uniform.js";
import { SlabArena } from "./SlabArena.js";

/**
 * The slots of every packed group of one kind (e.g. the keys of all layers of a cache): their format, the slab arena
 * that holds them, and the writer that quantizes a group into its slot.
 *
 * Slot of a group of G values at width b (packed-layout note, section 1):
 *   [codes:     ceil(G·b/8) bytes, LSB-first bit stream (quant/bitpack.ts)]
 *   [pad to 2 bytes (written as 0)]
 *   [positions: nOut × u16, index within the group, ascending]
 *   [values:    nOut × u16, fp16 bits of the exact value]
 * nOut = 2·outlierCountPerSide(G, ratio) is the same for every group, so the slot size depends only on b; the arena
 * stores it at exactly that size. Codes are chosen on an fp16 grid (quant/f16Grid.ts), outliers excluded from it.
 */
export class PackedGroupStore {
  readonly arena: SlabArena;
  /** outliers per group, both tails together */
  readonly nOut: number;
  private readonly codes: Uint8Array;
  private readonly excluded: Uint8Array;
  private readonly grid: F16Grid = createF16Grid();
  private zeroSlotPtr = 0;

  constructor(
    private readonly heap: WasmHeap,
    readonly groupLength: number,
    readonly outlierRatio: number,
    readonly method: UniformMethod,
    what: string,
  ) {
    this.arena = new SlabArena(heap, what);
    this.nOut = 2 * outlierCountPerSide(groupLength, outlierRatio);
    if (groupLength > 65536) throw new RangeError(`${what}: groups of ${groupLength} values exceed u16 outlier positions`);
    this.codes = new Uint8Array(groupLength);
    this.excluded = new Uint8Array(groupLength);
  }

  codeBytes(bits: number): number {
    return packedByteLength(this.groupLength, bits);
  }

  /** Byte offset of the outlier positions within a slot. */
  outlierOffset(bits: number): number {
    return this.codeBytes(bits) + (this.codeBytes(bits) & 1);
  }

  slotBytes(bits: number): number {
    return this.nOut === 0 ? this.codeBytes(bits) : this.outlierOffset(bits) + 4 * this.nOut;
  }

  /**
   * Quantizes values[offset .. offset+G) at `bits` into a new slot; returns the slot pointer, the grid in `gridOut`.
   */
  write(values: Float32Array, offset: number, bits: number, gridOut: F16Grid): number {
    checkCodeBits(bits);
    const slot = this.arena.take(this.slotBytes(bits));
    const buffer = this.heap.memory.buffer;
    const G = this.groupLength;
    let excluded: Uint8Array | null = null;
    if (this.nOut > 0) {
      const base = slot + this.outlierOffset(bits);
      const positions = new Uint16Array(buffer, base, this.nOut);
      const valueBits = new Uint16Array(buffer, base + 2 * this.nOut, this.nOut);
      selectOutliers(values, offset, G, this.nOut / 2, positions, valueBits, 0);
      markOutliers(positions, 0, this.nOut, G, this.excluded);
      excluded = this.excluded;
      if (this.codeBytes(bits) & 1) new Uint8Array(buffer, slot + this.codeBytes(bits), 1)[0] = 0;
    }
    quantizeF16Grid(values, offset, G, bits, this.method, excluded, this.codes, this.grid);
    const codeBytes = this.codeBytes(bits);
    if (codeBytes > 0) packCodes(this.codes, G, bits, new Uint8Array(buffer, slot, codeBytes), 0);
    Object.assign(gridOut, this.grid);
    return slot;
  }

  /** Gives a slot written at `bits` back to the arena (no-op for 0, a never-written entry, and the zero slot). */
  release(bits: number, slot: number): void {
    if (slot !== 0 && slot !== this.zeroSlotPtr) this.arena.release(this.slotBytes(bits), slot);
  }

  /**
   * The slot of an empty group (scale = zero = 0): no code bytes, and outliers that add nothing (position 0, value 0),
   * so a kernel reading it sees only zeros. Shared by every empty group; 0 when there are no outliers.
   */
  zeroSlot(): number {
    if (this.nOut > 0 && this.zeroSlotPtr === 0) {
      this.zeroSlotPtr = this.arena.take(this.slotBytes(0));
      new Uint8Array(this.heap.memory.buffer, this.zeroSlotPtr, this.slotBytes(0)).fill(0);
    }
    return this.zeroSlotPtr;
  }

  /** Slab bytes split into code bytes and outlier bytes by the slot layout (padding counts as codes). */
  nbytes(): { codes: number; outliers: number } {
    let codes = 0;
    let outliers = 0;
    const sizes = new Set<number>();
    for (let bits = 0; bits <= 8; bits++) sizes.add(SlabArena.slotSize(this.slotBytes(bits)));
    for (const size of sizes) {
      const bytes = this.arena.classBytes(size);
      const outlierShare = size === 0 ? 0 : Math.round((bytes * 4 * this.nOut) / size);
      outliers += outlierShare;
      codes += bytes - outlierShare;
    }
    return { codes, outliers };
  }

  dispose(): void {
    this.arena.dispose();
    this.zeroSlotPtr = 0;
  }
}
