import type { Region, WasmHeap } from "../../src/kernels/WasmHeap.js";

/**
 * Test-side allocation ledger: wraps a heap's alloc/free (on that instance only) and keeps every live region with
 * the name it was allocated under, so a test can compare a cache's nbytes() with what it really holds.
 */
export interface HeapTracker {
  /** Sum of byteLength over live regions allocated since tracking began whose name passes `include`. */
  liveBytes(include?: (what: string) => boolean): number;
  /** Live regions by name (for failure messages). */
  live(): Array<{ what: string; byteLength: number }>;
}

export function trackHeap(heap: WasmHeap): HeapTracker {
  const live = new Map<number, { what: string; byteLength: number }>();
  const alloc = heap.alloc.bind(heap);
  const free = heap.free.bind(heap);
  heap.alloc = (byteLength: number, what: string): Region => {
    const region = alloc(byteLength, what);
    live.set(region.ptr, { what, byteLength: region.byteLength });
    return region;
  };
  heap.free = (region: Region): void => {
    free(region);
    live.delete(region.ptr);
  };
  return {
    liveBytes: (include = () => true) => [...live.values()].filter((r) => include(r.what)).reduce((s, r) => s + r.byteLength, 0),
    live: () => [...live.values()],
  };
}

/** Regions a cache holds as storage: everything except its transient attention scratch and the test's own buffers. */
export function isCacheStorage(what: string): boolean {
  return !what.startsWith("KV attention scratch") && !what.startsWith("test ");
}
