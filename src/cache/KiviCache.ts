import type { Compute } from "../kernels/Compute.js";
import { ContextOverflowError } from "../util/errors.js";
import { AttentionScratch } from "./AttentionScratch.js";
import { F16Rows } from "./F16Rows.js";
import { KIVI_BLOCK, KiviKeyBlocks } from "./KiviKeyBlocks.js";
import { exactRollback, type CacheShape, type KVCache, type QueryBlock } from "./KVCache.js";
import { cacheBytes, type CacheBits, type CacheBytes, type CacheReportView } from "./CacheReportView.js";
import { PackedGroupStore } from "./PackedGroupStore.js";
import { PackedPart } from "./PackedPart.js";
import { SlabArena } from "./SlabArena.js";
import { BitsTally } from "./paperBits.js";
import { formatKvSpec, type KiviConfig } from "./spec.js";
import { maskFuturePositions } from "./attentionSupport.js";
import { rematerializeTail } from "./kiviTruncate.js";

/**
 * KIVI (Liu et al. 2024): keys quantized per channel in blocks of 32 tokens, values per token (group = KV head),
 * both at 2 or 4 bits with min-max grids, and the newest tokens kept in full precision (fp16) in a residual window.
 *
 * Flush rule (chosen and tested): tokens enter the residual; whenever it holds R + 32 tokens, its oldest 32 are
 * quantized (one key block per KV head, 32 value groups per head) and leave it. So the residual holds R..R+31
 * tokens once R + 32 have been seen, quantized tokens are always whole blocks from position 0, and the quantization
 * source is the fp16 residual (as in KIVI, whose full-precision cache is fp16). A long prefill block is fed through
 * the residual in pieces, so tokens of the block may be quantized before the block's own attention reads them.
 *
 * Per layer: key blocks (KiviKeyBlocks), value groups (a PackedPart with empty entries for residual tokens, so the
 * packed mix kernel runs over all T tokens), residual keys and values as fp16 rows [nKvHeads, ≤ R+32, D].
 * Token order = position order: columns [0, Tq) quantized, [Tq, T) residual.
 */
export interface KiviLayer {
  readonly keyBlocks: KiviKeyBlocks;
  readonly values: PackedPart;
  readonly residualKeys: F16Rows;
  readonly residualValues: F16Rows;
  /** tokens in whole quantized blocks */
  quantized: number;
  /** tokens in the residual window */
  residual: number;
}

export class KiviCache implements KVCache, CacheReportView {
  readonly spec: string;
  readonly layers: readonly KiviLayer[];
  readonly keyArena: SlabArena;
  readonly valueStore: PackedGroupStore;
  private readonly scratch: AttentionScratch;
  private readonly flushSource: Float32Array;
  nextPos = 0;
  readonly rollback = exactRollback(this);

  constructor(
    private readonly compute: Compute,
    private readonly shape: CacheShape,
    readonly config: KiviConfig,
  ) {
    const { nLayers, nKvHeads, headDim, maxTokens } = shape;
    this.spec = formatKvSpec(config);
    this.scratch = new AttentionScratch(compute);
    this.keyArena = new SlabArena(compute.heap, "KIVI key blocks");
    this.valueStore = new PackedGroupStore(compute.heap, headDim, 0, "minmax", "KIVI value slots");
    this.flushSource = new Float32Array(KIVI_BLOCK * nKvHeads * headDim);
    const window = config.residualLength + KIVI_BLOCK;
    const layers: KiviLayer[] = [];
    for (let l = 0; l < nLayers; l++) {
      const what = `KIVI layer ${l}`;
      layers.push({
        keyBlocks: new KiviKeyBlocks(compute.heap, this.keyArena, nKvHeads, headDim, config.bits, `${what} keys`),
        values: new PackedPart(this.valueStore, "head", nKvHeads, headDim, maxTokens, `${what} values`),
        residualKeys: new F16Rows(compute.heap, nKvHeads, headDim, window, `${what} residual keys`),
        residualValues: new F16Rows(compute.heap, nKvHeads, headDim, window, `${what} residual values`),
        quantized: 0,
        residual: 0,
      });
    }
    this.layers = layers;
  }

  storedTokens(layer: number): number {
    const s = this.layers[layer]!;
    return s.quantized + s.residual;
  }

  append(layer: number, firstPos: number, nTok: number, k: Float32Array, v: Float32Array): void {
    const s = this.layers[layer]!;
    if (firstPos !== this.storedTokens(layer)) throw new Error(`append at position ${firstPos}, cache holds ${this.storedTokens(layer)}`);
    if (firstPos + nTok > this.shape.maxTokens) throw new ContextOverflowError(firstPos + nTok, this.shape.maxTokens, "KV cache");
    const kvDim = this.shape.nKvHeads * this.shape.headDim;
    const window = this.config.residualLength + KIVI_BLOCK;
    for (let done = 0; done < nTok; ) {
      const n = Math.min(nTok - done, window - s.residual);
      for (const [rows, src] of [[s.residualKeys, k], [s.residualValues, v]] as const) {
        rows.ensureRows(s.residual + n, s.residual);
        rows.writeTokens(s.residual, n, src.subarray(done * kvDim, (done + n) * kvDim));
      }
      s.values.appendEmpty(n);
      s.residual += n;
      done += n;
      if (s.residual === window) this.flushOldestBlock(s);
    }
    if (layer === this.shape.nLayers - 1) this.nextPos = firstPos + nTok;
  }

  scores(layer: number, kvHead: number, q: Float32Array, block: QueryBlock, out: Float32Array): void {
    const s = this.layers[layer]!;
    const T = s.quantized + s.residual;
    const nq = block.nTok * block.nRep;
    const heap = this.compute.heap;
    const qPtr = heap.ptrOf(q);
    const outPtr = heap.ptrOf(out);
    s.keyBlocks.scores(this.compute, kvHead, qPtr, outPtr, nq, T);
    s.residualKeys.scores(this.compute, kvHead, qPtr, outPtr + 4 * s.quantized, nq, T, s.residual);
    maskFuturePositions(out, block, T, (t) => t);
  }

  observe(): void {}

  mix(layer: number, kvHead: number, probs: Float32Array, block: QueryBlock, out: Float32Array): void {
    const s = this.layers[layer]!;
    const nq = block.nTok * block.nRep;
    const heap = this.compute.heap;
    const outPtr = heap.ptrOf(out);
    s.values.mix(this.compute, kvHead, heap.ptrOf(probs), outPtr, nq, this.scratch.mixCodes(nq, this.shape.headDim));
    this.scratch.accumulateF16Mix(s.residualValues, kvHead, probs, s.quantized + s.residual, s.quantized, s.residual, nq, outPtr);
  }

  endForward(): void {}

  /** Drops positions ≥ nextPos; a cut inside a quantized block brings that block's kept tokens back to the residual. */
  truncate(nextPos: number): void {
    for (const s of this.layers) {
      if (nextPos >= s.quantized) s.residual = Math.min(s.residual, nextPos - s.quantized);
      else rematerializeTail(s, nextPos);
      s.values.truncate(nextPos);
    }
    this.nextPos = Math.min(this.nextPos, nextPos);
  }

  reset(): void {
    this.truncate(0);
  }

  /**
   * What the stored tokens occupy: key blocks (codes; per-channel fp16 scale and zero as metadata) and their pointers,
   * value codes and their widths, scales and zeros, fp16 residual rows. Allocated beyond that (slab room, pointer and
   * residual capacity) is slack.
   */
  nbytes(): CacheBytes {
    const { nKvHeads, headDim } = this.shape;
    const first = this.layers[0]!.keyBlocks;
    const blocks = this.keyArena.liveSlots(first.blockBytes);
    const keyCodes = blocks * KIVI_BLOCK * first.codeRowBytes;
    let metadata = blocks * (SlabArena.slotSize(first.blockBytes) - KIVI_BLOCK * first.codeRowBytes);
    let valueCodes = 0;
    let residual = 0;
    let allocated = this.keyArena.nbytes();
    for (const s of this.layers) {
      // value groups live in exact-size blocks (PackedSequence): its codes and metadata are what it holds
      const values = s.values.nbytes();
      metadata += 4 * s.keyBlocks.blocks * nKvHeads + values.metadata;
      valueCodes += values.codes;
      residual += 2 * s.residual * nKvHeads * headDim * 2;
      allocated += s.keyBlocks.pointerBytes() + values.codes + values.metadata + values.slack + s.residualKeys.byteLength + s.residualValues.byteLength;
    }
    const used = keyCodes + valueCodes + metadata + residual;
    return cacheBytes(keyCodes + valueCodes, metadata, 0, residual, 0, allocated - used);
  }

  paperBits(): CacheBits {
    const tally = new BitsTally();
    const kvDim = this.shape.nKvHeads * this.shape.headDim;
    for (const s of this.layers) {
      tally.add(s.quantized * kvDim, this.config.bits);
      tally.add(s.residual * kvDim, 16);
    }
    const part = tally.partBits(this.nextPos * this.shape.nLayers * kvDim);
    return { keys: part, values: part };
  }

  dispose(): void {
    for (const s of this.layers) {
      s.keyBlocks.dispose();
      s.values.dispose();
      s.residualKeys.free();
      s.residualValues.free();
    }
    this.keyArena.dispose();
    this.scratch.free();
  }

  /** Quantizes the residual's oldest 32 tokens (keys into blocks, values into their groups) and drops them from it. */
  private flushOldestBlock(s: KiviLayer): void {
    const { nKvHeads, headDim } = this.shape;
    s.keyBlocks.appendBlock(s.residualKeys);
    const src = this.flushSource;
    for (let r = 0; r < KIVI_BLOCK; r++) for (let h = 0; h < nKvHeads; h++) s.residualValues.readRow(h, r, src, (r * nKvHeads + h) * headDim);
    for (let h = 0; h < nKvHeads; h++) {
      const writes = Array.from({ length: KIVI_BLOCK }, (_, r) => ({ index: s.quantized + r, bits: this.config.bits, values: src, offset: (r * nKvHeads + h) * headDim }));
      s.values.setGroups(h, writes);
    }
    s.residualKeys.dropFirstRows(KIVI_BLOCK, s.residual);
    s.residualValues.dropFirstRows(KIVI_BLOCK, s.residual);
    s.quantized += KIVI_BLOCK;
    s.residual -= KIVI_BLOCK;
  }
}
