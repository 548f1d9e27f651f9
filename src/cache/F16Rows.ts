import type { Compute } from "../kernels/Compute.js";
import type { WasmHeap } from "../kernels/WasmHeap.js";
import { f16FromF32Bits, f16ToF32 } from "../quant/fp16.js";
import { GrowableRegion } from "./GrowableRegion.js";
import { parallelOverDims, parallelOverTokens } from "./attentionSupport.js";

/**
 * Full-precision (fp16) rows of one part of one layer: [nKvHeads, capacity, headDim] binary16, so the rows of one KV
 * head are contiguous and the f16 attention kernels stream them. Used for the fp16 parts of the uniform cache, its
 * sink tokens, the KIVI residual window and the kept tokens of the eviction caches. What a row means (a token
 * index, a residual index, a slot) is the owner's business. Capacity grows by doubling (at least 16 rows, at most
 * maxRows); growth moves every head's rows, so pointers are read after it.
 */
const MIN_ROWS = 16;

export class F16Rows {
  private readonly storage: GrowableRegion;
  private rowCapacity = 0;

  constructor(
    private readonly heap: WasmHeap,
    readonly nKvHeads: number,
    readonly headDim: number,
    private readonly maxRows: number,
    what: string,
  ) {
    this.storage = new GrowableRegion(heap, what);
  }

  get capacity(): number {
    return this.rowCapacity;
  }

  get byteLength(): number {
    return this.storage.byteLength;
  }

  /** Makes room for `rows` rows per head, keeping each head's first `keepRows`. */
  ensureRows(rows: number, keepRows: number): void {
    if (rows <= this.rowCapacity) return;
    if (rows > this.maxRows) throw new RangeError(`${this.storage.what}: ${rows} rows exceed the limit of ${this.maxRows}`);
    let capacity = Math.max(this.rowCapacity * 2, MIN_ROWS);
    while (capacity < rows) capacity *= 2;
    capacity = Math.min(capacity, this.maxRows);
    const { nKvHeads, headDim } = this;
    const old = this.rowCapacity;
    const saved = old > 0 ? new Uint16Array(this.heap.memory.buffer, this.storage.ptr, nKvHeads * old * headDim).slice() : null;
    this.storage.ensure(nKvHeads * capacity * headDim * 2, 0);
    if (saved !== null) {
      const now = new Uint16Array(this.heap.memory.buffer, this.storage.ptr, nKvHeads * capacity * headDim);
      for (let h = 0; h < nKvHeads; h++) now.set(saved.subarray(h * old * headDim, (h * old + keepRows) * headDim), h * capacity * headDim);
    }
    this.rowCapacity = capacity;
  }

  /**
   * Shrinks (or grows) the capacity to exactly `rows` rows per head, keeping each head's first min(rows, capacity)
   * rows: a tail that was long during a prefill keeps no doubling capacity afterwards. 0 frees the storage.
   */
  fit(rows: number): void {
    if (rows === this.rowCapacity) return;
    if (rows > this.maxRows) throw new RangeError(`${this.storage.what}: ${rows} rows exceed the limit of ${this.maxRows}`);
    const { nKvHeads, headDim } = this;
    const keep = Math.min(rows, this.rowCapacity);
    const saved = keep > 0 ? new Uint16Array(this.heap.memory.buffer, this.storage.ptr, nKvHeads * this.rowCapacity * headDim).slice() : null;
    const old = this.rowCapacity;
    this.storage.free();
    this.rowCapacity = 0;
    if (rows === 0) return;
    this.storage.ensure(nKvHeads * rows * headDim * 2, 0);
    if (saved !== null) {
      const now = new Uint16Array(this.heap.memory.buffer, this.storage.ptr, nKvHeads * rows * headDim);
      for (let h = 0; h < nKvHeads; h++) now.set(saved.subarray(h * old * headDim, (h * old + keep) * headDim), h * rows * headDim);
    }
    this.rowCapacity = rows;
  }

  /** Byte address of row `row` of head `head`. */
  rowPtr(head: number, row: number): number {
    return this.storage.ptr + ((head * this.rowCapacity + row) * this.headDim) * 2;
  }

  /** Rounds src[srcOffset .. +D) to fp16 into row `row` of head `head`. */
  writeRow(head: number, row: number, src: Float32Array, srcOffset: number): void {
    const D = this.headDim;
    const dst = new Uint16Array(this.heap.memory.buffer, this.rowPtr(head, row), D);
    const bits = new Uint32Array(src.buffer, src.byteOffset + srcOffset * 4, D);
    for (let d = 0; d < D; d++) dst[d] = f16FromF32Bits(bits[d]!);
  }

  /** Writes nTok source rows [nTok, nKvHeads·D] to rows firstRow.. of every head. */
  writeTokens(firstRow: number, nTok: number, src: Float32Array): void {
    const kvDim = this.nKvHeads * this.headDim;
    for (let t = 0; t < nTok; t++) for (let h = 0; h < this.nKvHeads; h++) this.writeRow(h, firstRow + t, src, t * kvDim + h * this.headDim);
  }

  /** Row `row` of head `head` widened to f32 into out[outOffset .. +D). */
  readRow(head: number, row: number, out: Float32Array, outOffset: number): void {
    const src = new Uint16Array(this.heap.memory.buffer, this.rowPtr(head, row), this.headDim);
    for (let d = 0; d < this.headDim; d++) out[outOffset + d] = f16ToF32(src[d]!);
  }

  /** Copies row `from` over row `to` (same head). */
  moveRow(head: number, from: number, to: number): void {
    const src = this.rowPtr(head, from);
    new Uint8Array(this.heap.memory.buffer).copyWithin(this.rowPtr(head, to), src, src + this.headDim * 2);
  }

  /** For every head: rows [count, rows) move down to [0, rows − count). */
  dropFirstRows(count: number, rows: number): void {
    const memory = new Uint8Array(this.heap.memory.buffer);
    for (let h = 0; h < this.nKvHeads; h++) memory.copyWithin(this.rowPtr(h, 0), this.rowPtr(h, count), this.rowPtr(h, rows));
  }

  /**
   * Logits of rows [0, rows) of head `head` into columns [0, rows) of out rows of stride T: out[i·T + r] = q_i·row_r.
   * outPtr points at the first column of the segment; q: [nq, D] f32 at qPtr.
   */
  scores(compute: Compute, head: number, qPtr: number, outPtr: number, nq: number, T: number, rows: number): void {
    const D = this.headDim;
    parallelOverTokens(compute, "attn_scores_f16", rows, nq * D, [qPtr, this.rowPtr(head, 0), outPtr, nq, D, D, T]);
  }

  /** out[i·D + d] = Σ_r p[i·rows + r]·row_r[d] over rows [0, rows) (overwrites out; p rows have stride `rows`). */
  mix(compute: Compute, head: number, pPtr: number, outPtr: number, nq: number, rows: number): void {
    const D = this.headDim;
    parallelOverDims(compute, "attn_mix_f16", D, rows * nq * D, [pPtr, this.rowPtr(head, 0), outPtr, nq, D, D, rows]);
  }

  free(): void {
    this.storage.free();
    this.rowCapacity = 0;
  }
}
