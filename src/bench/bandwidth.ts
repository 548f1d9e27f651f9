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
