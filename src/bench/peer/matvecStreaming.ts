import { Compute } from "../../kernels/Compute.js";
import { q8ActivationBytes } from "../../kernels/kernelExports.js";
import { Q8_0_BLOCK_BYTES, QK } from "../../format/gguf/blockQuant.js";
import { interleaveInPlace } from "../../model/interleavedRows.js";
import { emit, median } from "../timing.js";

/**
 * `node dist/src/bench/peer/matvecStreaming.js`: the q8_0 decode matvec kernel on one thread, in GB/s of weights
 * read, for a matrix that stays in cache (2048 x 2048, 4.5 MB) and one streamed from memory as in decode
 * (131072 x 2048, 285 MB), each run two ways: the kernel over all rows at once (its 4-row groups, interleaved layout)
 * and the same kernel called for one row at a time (its single-row path). One JSON line per case.
 */
const COLS = 2048;
const ROW_COUNTS = [2048, 131072];
const TIMED_RUNS = 5;

async function main(): Promise<void> {
  const compute = await Compute.create(1);
  try {
    const heap = compute.heap;
    const kernels = compute.kernels;
    const rowBytes = (COLS / QK) * Q8_0_BLOCK_BYTES;
    for (const rows of ROW_COUNTS) {
      // w: [rows, COLS/32] q8_0 blocks (f16 scale 1.0 = 0x3c00, then 32 int8 codes); xq: one token's q8 activations
      const w = heap.alloc(rows * rowBytes, "matvecStreaming weights");
      const xq = heap.alloc(q8ActivationBytes(COLS), "matvecStreaming activations");
      const out = heap.alloc(rows * 4, "matvecStreaming output");
      const weights = heap.u8(w);
      for (let i = 0; i < weights.length; i++) weights[i] = i % Q8_0_BLOCK_BYTES === 0 ? 0x00 : i % Q8_0_BLOCK_BYTES === 1 ? 0x3c : (i * 37) & 0x3f;
      const activations = heap.u8(xq);
      for (let i = 0; i < COLS; i++) activations[i] = (i * 13) & 0x3f;
      heap.f32(xq, COLS, COLS / QK).fill(0.01);
      interleaveInPlace(compute, "q8_0", w.ptr, rows, COLS);

      const ways: readonly [string, () => void][] = [
        ["all rows per call", () => kernels.matvec_q8_0(0, rows, w.ptr, xq.ptr, out.ptr, COLS, rows)],
        ["one row per call", () => {
          for (let r = 0; r < rows; r++) kernels.matvec_q8_0(r, r + 1, w.ptr, xq.ptr, out.ptr, COLS, rows);
        }],
      ];
      // enough repetitions per timed run to last ~10 ms or more
      const repetitions = Math.max(1, Math.round(2e8 / (rows * rowBytes)));
      for (const [way, run] of ways) {
        run();
        const seconds: number[] = [];
        for (let t = 0; t < TIMED_RUNS; t++) {
          const t0 = performance.now();
          for (let i = 0; i < repetitions; i++) run();
          seconds.push((performance.now() - t0) / 1000 / repetitions);
        }
        const s = median(seconds);
        emit({ bench: "matvecStreaming", kernel: "matvec_q8_0", threads: 1, rows, cols: COLS, weightBytes: rows * rowBytes, way, gigabytesPerSecond: round((rows * rowBytes) / s / 1e9) });
      }
      heap.free(w);
      heap.free(xq);
      heap.free(out);
    }
  } finally {
    compute.dispose();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((error: unknown) => {
  process.stderr.write(`matvecStreaming: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
