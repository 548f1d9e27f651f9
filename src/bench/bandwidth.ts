import type { Compute } from "../kernels/Compute.js";
import { medianSeconds } from "./timing.js";

/**
 * Measured memory bandwidth of this machine through the wasm kernels: copy_bytes over a buffer far larger than the
 * caches (256 MiB), split over the compute's threads. Reported as bytes moved (read + written) per second, the same
 * unit as the bytes of weights a decode step reads, so weightBytes / bandwidth is the decode-time floor.
 */
export const BANDWIDTH_PROBE_BYTES = 256 << 20;

export function measureCopyBandwidth(compute: Compute, bytes = BANDWIDTH_PROBE_BYTES): number {
  const heap = compute.heap;
  const src = heap.alloc(bytes, "bandwidth probe source");
  const dst = heap.alloc(bytes, "bandwidth probe destination");
  heap.u8(src).fill(1);
  try {
    const seconds = medianSeconds(5, () => compute.parallel("copy_bytes", bytes, [src.ptr, dst.ptr], 1 << 16));
    return (2 * bytes) / seconds;
  } finally {
    heap.free(src);
    heap.free(dst);
  }
}

/**
 * Read-only memory bandwidth (bytes read per second) over a buffer of `bytes` (rounded down to 64 KiB), split over
 * the compute's threads: the bound of a decode step that reads that many bytes of weights once. A buffer of the
 * weights' own size keeps the cache effects alike.
 */
export function measureReadBandwidth(compute: Compute, bytes: number): number {
  const heap = compute.heap;
  const size = Math.max(1, Math.floor(bytes / 65536)) * 65536;
  const src = heap.alloc(size, "read bandwidth source");
  const out = heap.alloc((size / 65536) * 16, "read bandwidth output");
  heap.u8(src).fill(1);
  try {
    const seconds = medianSeconds(5, () => compute.parallel("read_bytes", size, [src.ptr, out.ptr], 65536));
    return size / seconds;
  } finally {
    heap.free(src);
    heap.free(out);
  }
}
