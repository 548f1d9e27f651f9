import { MemoryLimitError } from "../util/errors.js";

/**
 * The engine's one address space: a shared WebAssembly.Memory that the wasm kernels of every thread read and write.
 * Weights, scratch activations and KV caches are all regions of it; a region is addressed by its byte offset (the
 * pointer the kernels receive) and seen from TypeScript through typed-array views of the memory's buffer.
 *
 * Allocation is first-fit over a free list kept sorted by address, with neighbours coalesced on free, so caches that
 * grow and shrink (QAQ re-quantization, eviction) reuse space. The memory itself only grows (wasm cannot shrink);
 * shared buffers are never detached by a grow, so views taken earlier stay valid.
 */

/** A block of the heap; `byteLength` is what memory accounting sums. */
export interface Region {
  readonly ptr: number;
  readonly byteLength: number;
}

const PAGE_BYTES = 65536;
/** wasm32 cannot address more than 4 GiB; the memory is declared with this maximum. */
export const MAX_PAGES = 65536;
/** The first page is left to the kernels' static data (they keep none today); allocations start above it. */
const RESERVED_BYTES = PAGE_BYTES;
/** 64-byte alignment: one cache line, and every v128 load inside a region is aligned if its offset is. */
const ALIGN = 64;

/**
 * True for a SharedArrayBuffer (what a shared wasm memory's buffer is). Not `instanceof SharedArrayBuffer`: a page
 * that is not cross-origin isolated has no SharedArrayBuffer global, though a shared wasm memory still works there.
 */
export function isSharedBuffer(buffer: ArrayBufferLike): boolean {
  return Object.prototype.toString.call(buffer) === "[object SharedArrayBuffer]";
}

interface FreeBlock {
  ptr: number;
  size: number;
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  /** free blocks sorted by ptr, coalesced */
  private readonly freeBlocks: FreeBlock[] = [];
  private top = RESERVED_BYTES;
  private live = new Map<number, number>();
  private view: Uint8Array | null = null;
  /** byteLength of the memory as of the last grow (kept by ensure, so `bytes` needs no buffer read) */
  private memoryLength = 0;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
  }

  static create(initialPages = 64): WasmHeap {
    return new WasmHeap(new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true }));
  }

  /** Bytes currently handed out (the sum of live region sizes after alignment). */
  get allocatedBytes(): number {
    let sum = 0;
    for (const size of this.live.values()) sum += size;
    return sum;
  }

  /** Bytes the memory has reserved from the system (grows, never shrinks). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  alloc(byteLength: number, what: string): Region {
    if (!Number.isInteger(byteLength) || byteLength < 0) throw new RangeError(`alloc ${what}: bad size ${byteLength}`);
    const size = Math.max(ALIGN, Math.ceil(byteLength / ALIGN) * ALIGN);
    for (let i = 0; i < this.freeBlocks.length; i++) {
      const block = this.freeBlocks[i]!;
      if (block.size < size) continue;
      const ptr = block.ptr;
      if (block.size === size) this.freeBlocks.splice(i, 1);
      else {
        block.ptr += size;
        block.size -= size;
      }
      return this.hand(ptr, size, byteLength);
    }
    const ptr = this.top;
    this.ensure(ptr + size, what);
    this.top = ptr + size;
    return this.hand(ptr, size, byteLength);
  }

  free(region: Region): void {
    const size = this.live.get(region.ptr);
    if (size === undefined) throw new Error(`free of a region not allocated here (ptr ${region.ptr})`);
    this.live.delete(region.ptr);
    // zero-fill keeps later allocations deterministic (no stale data read as codes or weights)
    this.bytes.fill(0, region.ptr, region.ptr + size); // (the cached view: reading memory.buffer makes a new object)
    let lo = 0;
    let hi = this.freeBlocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.freeBlocks[mid]!.ptr < region.ptr) lo = mid + 1;
      else hi = mid;
    }
    this.freeBlocks.splice(lo, 0, { ptr: region.ptr, size });
    this.coalesce(lo);
  }

  /**
   * A byte view of the whole memory, renewed when the memory grows (reading memory.buffer of a shared memory makes
   * a new object each time, which hot loops cannot afford). Valid until the next alloc.
   */
  get bytes(): Uint8Array {
    const view = this.view;
    if (view !== null && view.byteLength === this.memoryLength) return view;
    this.view = new Uint8Array(this.memory.buffer);
    this.memoryLength = this.view.byteLength;
    return this.view;
  }

  f32(region: Region, offsetBytes = 0, length = (region.byteLength - offsetBytes) >> 2): Float32Array {
    return new Float32Array(this.memory.buffer, region.ptr + offsetBytes, length);
  }

  u8(region: Region, offsetBytes = 0, length = region.byteLength - offsetBytes): Uint8Array {
    return new Uint8Array(this.memory.buffer, region.ptr + offsetBytes, length);
  }

  u16(region: Region, offsetBytes = 0, length = (region.byteLength - offsetBytes) >> 1): Uint16Array {
    return new Uint16Array(this.memory.buffer, region.ptr + offsetBytes, length);
  }

  i32(region: Region, offsetBytes = 0, length = (region.byteLength - offsetBytes) >> 2): Int32Array {
    return new Int32Array(this.memory.buffer, region.ptr + offsetBytes, length);
  }

  /**
   * The pointer of a typed array that views this heap. Throws for an array that lives elsewhere, so a kernel is
   * never handed an offset into some other buffer.
   */
  ptrOf(view: ArrayBufferView): number {
    if (!isSharedBuffer(view.buffer) || view.buffer.byteLength > this.memory.buffer.byteLength) {
      throw new Error("array does not live in the wasm heap");
    }
    return view.byteOffset;
  }

  private hand(ptr: number, size: number, byteLength: number): Region {
    this.live.set(ptr, size);
    return { ptr, byteLength };
  }

  private ensure(end: number, what: string): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE_BYTES);
    if (have / PAGE_BYTES + pages > MAX_PAGES) {
      throw new MemoryLimitError(
        `${what}: needs ${(end / 2 ** 30).toFixed(2)} GiB of wasm memory; wasm32 is limited to 4 GiB per engine`,
      );
    }
    // grow in steps of at least 1/8 of the current size to keep the number of grows logarithmic
    this.memory.grow(Math.min(MAX_PAGES - have / PAGE_BYTES, Math.max(pages, Math.ceil(have / PAGE_BYTES / 8))));
    this.memoryLength = -1; // the next `bytes` takes a new view
  }

  private coalesce(index: number): void {
    const blocks = this.freeBlocks;
    const cur = blocks[index]!;
    const next = blocks[index + 1];
    if (next && cur.ptr + cur.size === next.ptr) {
      cur.size += next.size;
      blocks.splice(index + 1, 1);
    }
    const prev = blocks[index - 1];
    if (prev && prev.ptr + prev.size === cur.ptr) {
      prev.size += cur.size;
      blocks.splice(index, 1);
    }
    // give the tail back to the bump pointer so the free list stays short
    const last = blocks[blocks.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      blocks.pop();
    }
  }
}
