import type { Region, WasmHeap } from "../kernels/WasmHeap.js";

/**
 * A segmented arena for fixed-size slots in the wasm heap: one size class per slot size, each class a list of slabs
 * (up to 64 KiB) carved into equal slots, with a free-slot list per class.
 *
 * Used for KIVI's key blocks, whose size never changes: slots are taken and released whole, so the arena stays dense
 * except after a truncation (a freed slot is reused by the next block). nbytes() counts the slabs' byteLengths,
 * allocated rather than used; releaseEmptySlabs() gives wholly free slabs back to the heap. (The variable-width
 * groups of uniform and QAQ live in PackedSequence blocks instead: a per-width arena fragments as widths change.)
 *
 * Slabs of a class grow geometrically (16 slots, then 32, 64, ... up to floor(maxSlabBytes / s) slots), so a small
 * cache does not pay 64 KiB per width it uses, and a large one allocates in 64 KiB steps.
 * Layout: a slab of class s holds its slots back to back from its (64-byte aligned) start; s is exactly the
 * requested size, so a 2-byte group (8 values at 2 bits) takes 2 bytes, not a rounded-up 4. An even-sized slot
 * therefore starts at an even address (its u16 outlier fields stay aligned); odd sizes only occur for slots without
 * outliers. The free slots of a class are kept out of band, in a JavaScript array of pointers (policy bookkeeping,
 * not heap bytes), so no slot needs room for a link. Slots of a new slab are handed out in address order without
 * touching the free list. A slot of size 0 (nothing to store) is the pointer 0 and costs nothing.
 */
export const DEFAULT_SLAB_BYTES = 64 * 1024;
const FIRST_SLAB_SLOTS = 16;

interface SizeClass {
  readonly slotBytes: number;
  /** slots in the largest slab */
  readonly maxSlotsPerSlab: number;
  /** slabs in allocation order */
  readonly slabs: Region[];
  /** pointers of free slots (a stack) */
  readonly free: number[];
  /** next never-used slot of the newest slab, and its end */
  fresh: number;
  freshEnd: number;
  live: number;
}

export class SlabArena {
  private readonly classes = new Map<number, SizeClass>();

  constructor(
    readonly heap: WasmHeap,
    private readonly what: string,
    private readonly maxSlabBytes = DEFAULT_SLAB_BYTES,
  ) {}

  /** The size a request of `bytes` occupies: exactly `bytes`. */
  static slotSize(bytes: number): number {
    return bytes;
  }

  /** A slot of at least `bytes` bytes (its previous contents are arbitrary); 0 for bytes = 0. */
  take(bytes: number): number {
    const size = SlabArena.slotSize(bytes);
    if (size === 0) return 0;
    const c = this.sizeClass(size);
    c.live++;
    const reused = c.free.pop();
    if (reused !== undefined) return reused;
    if (c.fresh === c.freshEnd) {
      const slots = Math.min(c.maxSlotsPerSlab, FIRST_SLAB_SLOTS * 2 ** Math.min(c.slabs.length, 20));
      const slab = this.heap.alloc(slots * size, `${this.what} (slab of ${size}-byte slots)`);
      c.slabs.push(slab);
      c.fresh = slab.ptr;
      c.freshEnd = slab.ptr + slab.byteLength;
    }
    const ptr = c.fresh;
    c.fresh += size;
    return ptr;
  }

  /** Returns a slot taken with the same `bytes`. */
  release(bytes: number, ptr: number): void {
    const size = SlabArena.slotSize(bytes);
    if (size === 0) return;
    const c = this.classes.get(size);
    if (c === undefined || c.live === 0) throw new Error(`${this.what}: release of a ${size}-byte slot never taken`);
    c.free.push(ptr);
    c.live--;
  }

  /** Slots in use of the class that `bytes` falls in. */
  liveSlots(bytes: number): number {
    return this.classes.get(SlabArena.slotSize(bytes))?.live ?? 0;
  }

  /** Sum of the slab byteLengths of the class that `bytes` falls in. */
  classBytes(bytes: number): number {
    const c = this.classes.get(SlabArena.slotSize(bytes));
    return c === undefined ? 0 : c.slabs.reduce((sum, slab) => sum + slab.byteLength, 0);
  }

  /** Sum of every slab's byteLength: memory held, used or not. */
  nbytes(): number {
    let sum = 0;
    for (const c of this.classes.values()) for (const slab of c.slabs) sum += slab.byteLength;
    return sum;
  }

  /** Frees the slabs none of whose slots is in use; returns the bytes given back. O(free slots · log slabs). */
  releaseEmptySlabs(): number {
    let released = 0;
    for (const [size, c] of this.classes) {
      if (c.live === 0) {
        released += this.dropClass(size, c);
        continue;
      }
      const sorted = [...c.slabs].sort((a, b) => a.ptr - b.ptr);
      const freeCount = new Array<number>(sorted.length).fill(0);
      const freshSlab = c.slabs[c.slabs.length - 1]!;
      for (const ptr of c.free) freeCount[slabIndexOf(sorted, ptr)]!++;
      freeCount[sorted.indexOf(freshSlab)]! += (c.freshEnd - c.fresh) / size;
      const keep = new Set(sorted.filter((slab, i) => freeCount[i]! < slab.byteLength / size));
      if (keep.size === sorted.length) continue;
      // keep only the free slots of kept slabs; the newest slab's unused tail stays fresh if it is kept
      const kept = c.free.filter((ptr) => keep.has(sorted[slabIndexOf(sorted, ptr)]!));
      c.free.length = 0;
      c.free.push(...kept);
      if (!keep.has(freshSlab)) c.fresh = c.freshEnd = 0;
      for (const slab of sorted) {
        if (keep.has(slab)) continue;
        released += slab.byteLength;
        this.heap.free(slab);
        c.slabs.splice(c.slabs.indexOf(slab), 1);
      }
    }
    return released;
  }

  /** Frees every slab (every slot taken so far becomes invalid). */
  dispose(): void {
    for (const [size, c] of this.classes) this.dropClass(size, c);
  }

  private dropClass(size: number, c: SizeClass): number {
    let bytes = 0;
    for (const slab of c.slabs) {
      bytes += slab.byteLength;
      this.heap.free(slab);
    }
    this.classes.delete(size);
    return bytes;
  }

  private sizeClass(size: number): SizeClass {
    let c = this.classes.get(size);
    if (c === undefined) {
      const maxSlotsPerSlab = Math.max(1, Math.floor(this.maxSlabBytes / size));
      c = { slotBytes: size, maxSlotsPerSlab, slabs: [], free: [], fresh: 0, freshEnd: 0, live: 0 };
      this.classes.set(size, c);
    }
    return c;
  }

}

/** Index of the slab (sorted by ptr) that contains ptr. */
function slabIndexOf(sorted: readonly Region[], ptr: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid]!.ptr <= ptr) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
