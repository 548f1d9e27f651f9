import type { WasmHeap } from "../kernels/WasmHeap.js";
import { GrowableRegion } from "./GrowableRegion.js";

/**
 * The slot map of an eviction cache's layer: per KV head and slot, the position of the token held there and (for
 * H2O) its accumulated attention. In the heap, so memory accounting sees it:
 *   positions [nKvHeads, capacity] i32
 *   scores    [nKvHeads, capacity] f32   (only when `withScores`)
 * Growth keeps each head's first `keep` slots; views are taken per call (they do not survive growth).
 */
export class SlotTable {
  private readonly positionArray: GrowableRegion;
  private readonly scoreArray: GrowableRegion | null;
  private slotCapacity = 0;

  constructor(
    private readonly heap: WasmHeap,
    private readonly nKvHeads: number,
    withScores: boolean,
    what: string,
  ) {
    this.positionArray = new GrowableRegion(heap, `${what} slot positions`);
    this.scoreArray = withScores ? new GrowableRegion(heap, `${what} accumulated attention`) : null;
  }

  get capacity(): number {
    return this.slotCapacity;
  }

  get byteLength(): number {
    return this.positionArray.byteLength + (this.scoreArray?.byteLength ?? 0);
  }

  /** Grows to `capacity` slots per head (no-op if already there), keeping each head's first `keep`. */
  ensure(capacity: number, keep: number): void {
    if (capacity <= this.slotCapacity) return;
    const old = this.slotCapacity;
    for (const array of [this.positionArray, this.scoreArray]) {
      if (array === null) continue;
      const saved = old > 0 ? new Int32Array(this.heap.memory.buffer, array.ptr, this.nKvHeads * old).slice() : null;
      array.ensure(this.nKvHeads * capacity * 4, 0);
      if (saved === null) continue;
      const now = new Int32Array(this.heap.memory.buffer, array.ptr, this.nKvHeads * capacity);
      for (let h = 0; h < this.nKvHeads; h++) now.set(saved.subarray(h * old, h * old + keep), h * capacity);
    }
    this.slotCapacity = capacity;
  }

  /** positions of head h's slots [0, capacity) */
  positions(head: number): Int32Array {
    return new Int32Array(this.heap.memory.buffer, this.positionArray.ptr + head * this.slotCapacity * 4, this.slotCapacity);
  }

  /** accumulated attention of head h's slots (null when the table has none) */
  scores(head: number): Float32Array | null {
    if (this.scoreArray === null) return null;
    return new Float32Array(this.heap.memory.buffer, this.scoreArray.ptr + head * this.slotCapacity * 4, this.slotCapacity);
  }

  free(): void {
    this.positionArray.free();
    this.scoreArray?.free();
    this.slotCapacity = 0;
  }
}
