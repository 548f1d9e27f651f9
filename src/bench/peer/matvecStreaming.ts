import { Compute } from "../../kernels/Compute.js";
import { q8_0ActivationBytes, q8KActivationBytes } from "../../kernels/kernelExports.js";
import { GGML_TYPES } from "../../format/gguf/ggmlTypes.js";
import type { TensorType } from "../../format/tensor.js";
import { UsageError } from "../../util/errors.js";
import { interleaveInPlace } from "../../model/interleavedRows.js";
import { emit, median } from "../timing.js";

/**
 * `node dist/src/bench/peer/matvecStreaming.js [type ...]`: a quantized decode matvec kernel (default q8_0; any of
 * q8_0, q4_0, q4_k, q5_k, q6_k) on one thread, in GB/s of weights read (and G values/s), for a matrix that stays in cache (2048 x 2048, 4.5 MB) and one streamed from memory as in decode
 * (131072 x 2048, 285 MB), each run two ways: the kernel over all rows at once (its 4-row groups, interleaved layout)
 * and the same kernel called for one row at a time (its single-row path). One JSON line per case.
 */
const COLS = 2048;
const ROW_COUNTS = [2048, 131072];
const TIMED_RUNS = 5;

async function main(): Promise<void> {
  const types = (process.argv.length > 2 ? process.argv.slice(2) : ["q8_0"]) as TensorType[];
  for (const type of types) {
    if (!(type in GGML_TYPES) || GGML_TYPES[type].kernels.input === "f32") throw new UsageError(`matvecStreaming: ${type} is not a quantized weight type`);
  }
  const compute = await Compute.create(1);
  try {
    for (const type of types) await measureType(compute, type);
  } finally {
    compute.dispose();
  }
}

async function measureType(compute: Compute, type: TensorType): Promise<void> {
  {
    const heap = compute.heap;
    const { blockSize, bytesPerBlock, kernels: traits } = GGML_TYPES[type];
    const matvec = compute.kernels[traits.matvec] as (...a: number[]) => void;
    const rowBytes = (COLS / blockSize) * bytesPerBlock;
    for (const rows of ROW_COUNTS) {
      // w: [rows, COLS/blockSize] blocks of pseudo-random bytes (every byte pattern is a valid block; the f16 scale
      // fields, wherever they sit, hold small finite values since 0x3f masks keep exponents low); xq: one token
      const w = heap.alloc(rows * rowBytes, "matvecStreaming weights");
      const xq = heap.alloc(Math.max(q8_0ActivationBytes(COLS), q8KActivationBytes(COLS)), "matvecStreaming activations");
      const out = heap.alloc(rows * 4, "matvecStreaming output");
      const weights = heap.u8(w);
      for (let i = 0; i < weights.length; i++) weights[i] = (i * 37) & 0x3f;
      const x = heap.alloc(COLS * 4, "matvecStreaming input");
      heap.f32(x).forEach((_, i, values) => (values[i] = (((i * 13) & 0x3f) - 32) / 32));
      compute.kernels[traits.input === "q8_0" ? "quantize_act_q8_0" : "quantize_act_q8_k"](0, 1, x.ptr, xq.ptr, COLS);
      heap.free(x);
      interleaveInPlace(compute, type, w.ptr, rows, COLS);

      const ways: readonly [string, () => void][] = [
        ["all rows per call", () => matvec(0, rows, w.ptr, xq.ptr, out.ptr, COLS, rows)],
        ["one row per call", () => {
          for (let r = 0; r < rows; r++) matvec(r, r + 1, w.ptr, xq.ptr, out.ptr, COLS, rows);
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
        emit({
          bench: "matvecStreaming", kernel: traits.matvec, threads: 1, rows, cols: COLS, weightBytes: rows * rowBytes, way,
          gigabytesPerSecond: round((rows * rowBytes) / s / 1e9), gigaValuesPerSecond: round((rows * COLS) / s / 1e9),
        });
      }
      heap.free(w);
      heap.free(xq);
      heap.free(out);
    }
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((error: unknown) => {
  process.stderr.write(`matvecStreaming: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
