/**
 * The backing tier in plain JS memory (QAQ's "CPU copy"): per (layer, part) one Uint16Array of fp16 rows
 * [capacity, kvDim], token-major, grown by doubling (at least 64 tokens, at most maxTokens). It lives outside the wasm
 * heap, so it neither counts against the 4 GiB wasm32 limit nor keeps the heap from reusing its space.
 */
import type { CacheShape } from "../KVCache.js";
import { widenF16Bits } from "./f16Bits.js";
import { partIndex, type BackingTier, type KvPart } from "./BackingTier.js";

const MIN_CAPACITY_TOKENS = 64;

export class MemoryBackingTier implements BackingTier {
  /** [nLayers·2] arrays of [capacity, kvDim] fp16 bits, index layer·2 + part */
  private readonly rows: Uint16Array[] = [];
  /** [nLayers·2] tokens stored */
  private readonly stored: Int32Array;
  private readonly kvDim: number;
  reads = 0;
  bytesRead = 0;

  constructor(private readonly shape: CacheShape) {
    this.kvDim = shape.nKvHeads * shape.headDim;
    for (let i = 0; i < 2 * shape.nLayers; i++) this.rows.push(new Uint16Array(0));
    this.stored = new Int32Array(2 * shape.nLayers);
  }

  write(layer: number, part: KvPart, firstPos: number, nTok: number, rows: Uint16Array): void {
    const i = layer * 2 + partIndex(part);
    const end = firstPos + nTok;
    if (end * this.kvDim > this.rows[i]!.length) this.grow(i, end);
    this.rows[i]!.set(rows.subarray(0, nTok * this.kvDim), firstPos * this.kvDim);
    this.stored[i] = Math.max(this.stored[i]!, end);
  }

  read(layer: number, part: KvPart, token: number, elemOffset: number, count: number, out: Float32Array): void {
    const i = layer * 2 + partIndex(part);
    if (token >= this.stored[i]!) throw new RangeError(`backing tier: token ${token} of layer ${layer} ${part} was never stored`);
    const rows = this.rows[i]!;
    const base = token * this.kvDim + elemOffset;
    const outBits = new Uint32Array(out.buffer, out.byteOffset, count);
    for (let j = 0; j < count; j++) outBits[j] = widenF16Bits(rows[base + j]!);
    this.reads++;
    this.bytesRead += 2 * count;
  }

  truncate(tokens: number): void {
    for (let i = 0; i < this.stored.length; i++) this.stored[i] = Math.min(this.stored[i]!, tokens);
  }

  get byteLength(): number {
    return this.rows.reduce((sum, rows) => sum + rows.byteLength, 0);
  }

  dispose(): void {
    for (let i = 0; i < this.rows.length; i++) this.rows[i] = new Uint16Array(0);
    this.stored.fill(0);
  }

  private grow(i: number, needed: number): void {
    let capacity = Math.max(2 * (this.rows[i]!.length / this.kvDim), MIN_CAPACITY_TOKENS);
    while (capacity < needed) capacity *= 2;
    capacity = Math.max(needed, Math.min(capacity, this.shape.maxTokens));
    const next = new Uint16Array(capacity * this.kvDim);
    next.set(this.rows[i]!.subarray(0, this.stored[i]! * this.kvDim));
    this.rows[i] = next;
  }
}
