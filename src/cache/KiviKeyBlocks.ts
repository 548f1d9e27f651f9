import type { Compute } from "../kernels/Compute.js";
import type { WasmHeap } from "../kernels/WasmHeap.js";
import { packCodes, packedByteLength, readCode } from "../quant/bitpack.js";
import { createF16Grid, quantizeF16Grid } from "../quant/f16Grid.js";
import { f16ToF32 } from "../quant/fp16.js";
import { reconstructCode } from "../quant/uniform.js";
import type { F16Rows } from "./F16Rows.js";
import { GrowableRegion } from "./GrowableRegion.js";
import type { SlabArena } from "./SlabArena.js";
import { parallelOverTokens } from "./attentionSupport.js";

/**
 * KIVI keys of one layer: per-channel quantization in blocks of 32 consecutive tokens (packed-layout note,
 * section 2). One block per (KV head, 32 tokens), one arena slot each:
 *   [codes: 32 tokens × ceil(D·b/8) bytes, token-major, each token's D codes an LSB-first stream]
 *   [scale: D × u16 fp16 per channel] [zero: D × u16 fp16 per channel]
 *   x^_{t,d} = zero_d + (c_{t,d} + 0.5)·scale_d   (min-max grid of the channel's 32 values, rounded to fp16)
 * Block pointers: per KV head a u32 array [capacity blocks] in the heap (the kernel's blockPtrs).
 */
export const KIVI_BLOCK = 32;

export class KiviKeyBlocks {
  readonly codeRowBytes: number;
  readonly blockBytes: number;
  private readonly pointers: GrowableRegion[] = [];
  private count = 0;
  private capacity = 0;
  private readonly channel = new Float32Array(KIVI_BLOCK);
  private readonly channelCodes = new Uint8Array(KIVI_BLOCK);
  private readonly blockCodes: Uint8Array;
  private readonly grid = createF16Grid();

  constructor(
    private readonly heap: WasmHeap,
    private readonly arena: SlabArena,
    readonly nKvHeads: number,
    readonly headDim: number,
    readonly bits: number,
    what: string,
  ) {
    this.codeRowBytes = packedByteLength(headDim, bits);
    this.blockBytes = KIVI_BLOCK * this.codeRowBytes + 4 * headDim;
    this.blockCodes = new Uint8Array(KIVI_BLOCK * headDim);
    for (let h = 0; h < nKvHeads; h++) this.pointers.push(new GrowableRegion(heap, `${what} head ${h} block pointers`));
  }

  /** Blocks per head (tokens covered: 32·blocks). */
  get blocks(): number {
    return this.count;
  }

  /** Pointer of block j of head h. */
  blockPtr(head: number, j: number): number {
    return new Uint32Array(this.heap.memory.buffer, this.pointers[head]!.ptr, this.count)[j]!;
  }

  /** Quantizes rows [0, 32) of every head of `source` (fp16 keys) into one new block per head. */
  appendBlock(source: F16Rows): void {
    if (this.count === this.capacity) this.grow();
    const D = this.headDim;
    const rows = new Float32Array(KIVI_BLOCK * D);
    for (let h = 0; h < this.nKvHeads; h++) {
      for (let r = 0; r < KIVI_BLOCK; r++) source.readRow(h, r, rows, r * D);
      const block = this.arena.take(this.blockBytes);
      const params = new Uint16Array(this.heap.memory.buffer, block + KIVI_BLOCK * this.codeRowBytes, 2 * D);
      for (let d = 0; d < D; d++) {
        for (let r = 0; r < KIVI_BLOCK; r++) this.channel[r] = rows[r * D + d]!;
        quantizeF16Grid(this.channel, 0, KIVI_BLOCK, this.bits, "minmax", null, this.channelCodes, this.grid);
        params[d] = this.grid.scaleBits;
        params[D + d] = this.grid.zeroBits;
        for (let r = 0; r < KIVI_BLOCK; r++) this.blockCodes[r * D + d] = this.channelCodes[r]!;
      }
      const codes = new Uint8Array(this.heap.memory.buffer, block, KIVI_BLOCK * this.codeRowBytes);
      for (let r = 0; r < KIVI_BLOCK; r++) packCodes(this.blockCodes.subarray(r * D, (r + 1) * D), D, this.bits, codes, r * this.codeRowBytes);
      new Uint32Array(this.heap.memory.buffer, this.pointers[h]!.ptr, this.capacity)[this.count] = block;
    }
    this.count++;
  }

  /** Key of token r of block j, head h, dequantized into out[offset .. +D). */
  dequantizeToken(head: number, j: number, r: number, out: Float32Array, offset: number): void {
    const D = this.headDim;
    const block = this.blockPtr(head, j);
    const bytes = new Uint8Array(this.heap.memory.buffer, block, this.blockBytes);
    const params = new Uint16Array(this.heap.memory.buffer, block + KIVI_BLOCK * this.codeRowBytes, 2 * D);
    for (let d = 0; d < D; d++) {
      const code = readCode(bytes, r * this.codeRowBytes, d, this.bits);
      out[offset + d] = reconstructCode(code, f16ToF32(params[d]!), f16ToF32(params[D + d]!));
    }
  }

  /** Drops blocks from `blocks` on (their slots go back to the arena). */
  truncate(blocks: number): void {
    for (let j = blocks; j < this.count; j++) for (let h = 0; h < this.nKvHeads; h++) this.arena.release(this.blockBytes, this.blockPtr(h, j));
    this.count = Math.min(this.count, blocks);
  }

  /** out[i·T + 32·j + r] = q_i · k^_{32j+r} for every block j of head h (columns [0, 32·blocks)). */
  scores(compute: Compute, head: number, qPtr: number, outPtr: number, nq: number, T: number): void {
    if (this.count === 0) return;
    const args = [qPtr, outPtr, nq, this.headDim, T, this.pointers[head]!.ptr, this.bits, 0];
    parallelOverTokens(compute, "attn_scores_kivi", this.count, KIVI_BLOCK * nq * this.headDim, args);
  }

  /** Bytes of the block pointer arrays. */
  pointerBytes(): number {
    return this.pointers.reduce((sum, p) => sum + p.byteLength, 0);
  }

  dispose(): void {
    this.truncate(0);
    for (const p of this.pointers) p.free();
    this.capacity = 0;
  }

  private grow(): void {
    this.capacity = Math.max(4, this.capacity * 2);
    for (const p of this.pointers) p.ensure(this.capacity * 4, this.count * 4);
  }
}
