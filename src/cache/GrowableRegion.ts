import type { Region, WasmHeap } from "../kernels/WasmHeap.js";

/**
 * A heap buffer that grows by reallocation: a larger region is allocated, the bytes in use are copied across and the
 * old region is freed. Its pointer therefore changes on growth: callers read `ptr` (or a fresh view) after every
 * `ensure`, never keep one across it. Empty until the first `ensure` (0 bytes held).
 */
export class GrowableRegion {
  private region: Region | null = null;

  constructor(
    private readonly heap: WasmHeap,
    readonly what: string,
  ) {}

  get ptr(): number {
    if (this.region === null) throw new Error(`${this.what}: used before allocation`);
    return this.region.ptr;
  }

  /** Bytes allocated (what memory accounting sums). */
  get byteLength(): number {
    return this.region?.byteLength ?? 0;
  }

  /** Grows to at least `bytes`, keeping the first `keepBytes` bytes; new bytes read as zero. */
  ensure(bytes: number, keepBytes: number): void {
    if (bytes <= this.byteLength) return;
    const next = this.heap.alloc(bytes, this.what);
    let keep = 0;
    if (this.region !== null) {
      keep = Math.min(keepBytes, this.region.byteLength);
      this.heap.u8(next, 0, keep).set(this.heap.u8(this.region, 0, keep));
      this.heap.free(this.region);
    }
    this.heap.u8(next, keep).fill(0);
    this.region = next;
  }

  free(): void {
    if (this.region !== null) this.heap.free(this.region);
    this.region = null;
  }
}
