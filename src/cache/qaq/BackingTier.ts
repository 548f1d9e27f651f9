/**
 * QAQ's full-precision backing tier (QAQ-METHOD.md section 4): a copy of every token's K and V kept outside the hot
 * cache, the only source a packed group is re-quantized from when its width changes (never from quantized data).
 * "Full precision" here is fp16: the cache rounds K and V to fp16 once on append, and every quantization (the first
 * one and every later one) starts from those fp16 values, so re-quantizing from the tier gives exactly the codes a
 * fresh quantization of the token would.
 *
 * Addressing: (layer, part, token) -> one row of kvDim = nKvHeads·D fp16 values, head h at [h·D, (h+1)·D).
 * Two implementations: MemoryBackingTier (plain JS typed arrays, outside the wasm heap) and FileBackingTier
 * (positioned reads and writes on a temporary file; platform/node, since only Node has files). Their bytes are reported apart from the hot cache.
 */
import type { CacheShape } from "../KVCache.js";
import { platform } from "#platform";
import { MemoryBackingTier } from "./MemoryBackingTier.js";

/** Keys or values. */
export type KvPart = "keys" | "values";

export interface BackingTier {
  /** Stores tokens [firstPos, firstPos + nTok) of (layer, part): rows [nTok, kvDim] of fp16 bits. */
  write(layer: number, part: KvPart, firstPos: number, nTok: number, rows: Uint16Array): void;
  /** Widens values [elemOffset, elemOffset + count) of a stored token's row into out[0 .. count). */
  read(layer: number, part: KvPart, token: number, elemOffset: number, count: number, out: Float32Array): void;
  /** Forgets the tokens at index ≥ `tokens` of every layer. */
  truncate(tokens: number): void;
  /** Bytes held for the stored tokens (memory: allocated arrays; file: bytes written and still valid). */
  readonly byteLength: number;
  /** Reads served so far and the bytes they returned (the cost re-quantization pays for the tier). */
  readonly reads: number;
  readonly bytesRead: number;
  /** Frees the arrays / closes and deletes the file. */
  dispose(): void;
}

/** The tier for a config's `backing` (null for "none"). */
export function createBackingTier(kind: "memory" | "file" | "none", shape: CacheShape): BackingTier | null {
  switch (kind) {
    case "memory":
      return new MemoryBackingTier(shape);
    case "file":
      // on a temporary file where there is a file system (Node); the browser platform refuses it with a clear error
      return platform.createFileBackingTier(shape);
    case "none":
      return null;
    default:
      throw new Error(`unknown backing ${kind satisfies never}`);
  }
}

/** 0 for keys, 1 for values: the part's index in per-layer pairs. */
export function partIndex(part: KvPart): number {
  return part === "keys" ? 0 : 1;
}
