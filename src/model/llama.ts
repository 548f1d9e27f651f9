import type { Compute } from "../kernels/Compute.js";
import type { KVCache, QueryBlock } from "../cache/KVCache.js";
import { queryDim, type ModelConfig } from "./config.js";
import { rowOf, type LayerWeights, type Weights } from "./weights.js";
import { linear, LinearInput, type ActivationScratch } from "./linear.js";
import { reservePositions, type ForwardState } from "./state.js";
import { ContextOverflowError } from "../util/errors.js";
import { checkLogitsFinite, checkRowsFinite } from "./finiteCheck.js";

/**
 * The forward pass of every supported architecture (model/architectures/), top to bottom. A block of n consecutive
 * tokens (a prompt chunk, or one decode token) goes through every layer at once, so the projections are
 * matrix-matrix products during prefill. Shapes: qDim = nHeads·D, kvDim = nKvHeads·D, D = headDim.
 *
 *   x = embed(tokens)                                                   x: [n, dim]
 *   per layer:  xb = rmsnorm(x)·w_att                                   xb: [n, dim]
 *               q = Wq·xb (+ bq), k = Wk·xb (+ bk), v = Wv·xb (+ bv)    q: [n, qDim]  k, v: [n, kvDim]
 *               q, k = rmsnorm per head (·w_qnorm, ·w_knorm)            (architectures with q/k norm)
 *               rope(q, k), interleaved or NeoX pairs; q /= sqrt(D)
 *               cache.append(k, v)
 *               per KV head: scores = cache.scores(q) -> softmax -> cache.observe -> cache.mix -> att   att: [n, qDim]
 *               x += Wo·att
 *               xb = rmsnorm(x)·w_ffn;  x += W_down·(silu(W_gate·xb) ⊙ W_up·xb)   hb, hb2: [n, hidden]
 *   logits = W_out·rmsnorm(x)·w_out_norm                                [n or 1, vocab]
 *
 * What differs between architectures is read from config.arch (biases, q/k norm, rope style and table); this file
 * never branches on an architecture's name, and never sees how the cache stores K and V.
 *
 * A pass may also hold segments of several sequences (forwardBatch: the decode tokens of concurrent requests and
 * chunks of their prompts): the norms, projections and FFN run over all n rows at once, attention (the cache part:
 * rope at each segment's own positions, append, scores, softmax, observe, mix) runs segment by segment on its cache.
 */
export type LogitsWanted = "last" | "all";

/**
 * One sequence's run of consecutive tokens within a batched forward pass: `tokens` at positions pos0.. of `cache`.
 * Segments of different sequences (different caches, different positions) share the pass: every projection is one
 * matrix product over all the pass's tokens (the weights are read once for all of them), while each segment's
 * attention reads only its own cache.
 */
export interface BatchSegment {
  readonly tokens: Int32Array;
  readonly pos0: number;
  readonly cache: KVCache;
  /** logits wanted: none, the segment's last token, or every token */
  readonly logits: "none" | LogitsWanted;
  /**
   * The positions of the forward call this segment ends, when it ends one: cache.endForward(firstPos, nTok) is called
   * after the pass (a prompt fed over several passes ends its call, and gets quantized by prompt-mode caches, once).
   */
  readonly endForward?: { readonly firstPos: number; readonly nTok: number };
}

export class LlamaModel {
  constructor(
    readonly config: ModelConfig,
    private readonly compute: Compute,
    private readonly weights: Weights,
    private readonly state: ForwardState,
  ) {}

  /** Tokens one forward pass holds at most (one block; a batched pass shares it between its segments). */
  get maxBlock(): number {
    return this.state.maxBlock;
  }

  /**
   * Runs `tokens` at positions pos0.. through the model, appending to `cache`. Returns a view of the logits:
   * [vocab] of the last token, or [tokens.length, vocab] for "all" (valid until the next call).
   */
  forward(tokens: Int32Array, pos0: number, cache: KVCache, wanted: LogitsWanted): Float32Array {
    const { seqLen, vocabSize } = this.config;
    if (pos0 + tokens.length > seqLen) throw new ContextOverflowError(pos0 + tokens.length, seqLen, "model context");
    if (tokens.length === 0) throw new RangeError("forward needs at least one token");
    reservePositions(this.compute, this.config, this.state, pos0 + tokens.length);
    const B = this.state.maxBlock;
    const all = wanted === "all" ? new Float32Array(tokens.length * vocabSize) : undefined;
    let last: Float32Array | undefined;
    for (let start = 0; start < tokens.length; start += B) {
      const n = Math.min(B, tokens.length - start);
      const final = start + n === tokens.length;
      const segment: BatchSegment = { tokens: tokens.subarray(start, start + n), pos0: pos0 + start, cache, logits: all ? "all" : final ? "last" : "none" };
      const logits = this.forwardBlock([segment]);
      if (all) all.set(logits, start * vocabSize);
      else if (final) last = logits;
    }
    // one endForward per forward call, not per block: a prompt is one pass however it is blocked (QAQ's prompt mode
    // and prompt compression quantize "the prompt" at this point)
    cache.endForward(pos0, tokens.length);
    const out = all ?? last!;
    checkLogitsFinite(out, vocabSize, all ? pos0 : pos0 + tokens.length - 1);
    return out;
  }

  /**
   * One pass over segments of several sequences (at most maxBlock tokens in all, each cache in one segment): the
   * decode tokens of concurrent requests, and chunks of their prompts, share one read of the weights. Returns a view
   * of the wanted logits, segment by segment in order ([rows, vocab], valid until the next call); then calls each
   * ending segment's cache.endForward. Same arithmetic per token as `forward`: a lone segment gives the same logits.
   */
  forwardBatch(segments: readonly BatchSegment[]): Float32Array {
    const { seqLen, vocabSize } = this.config;
    if (segments.length === 0) throw new RangeError("forwardBatch needs at least one segment");
    let total = 0;
    const caches = new Set<KVCache>();
    for (const s of segments) {
      if (s.tokens.length === 0) throw new RangeError("a batch segment needs at least one token");
      if (s.pos0 + s.tokens.length > seqLen) throw new ContextOverflowError(s.pos0 + s.tokens.length, seqLen, "model context");
      if (caches.has(s.cache)) throw new RangeError("a cache may appear in one segment of a pass only");
      caches.add(s.cache);
      total += s.tokens.length;
    }
    if (total > this.state.maxBlock) throw new RangeError(`a forward pass holds at most ${this.state.maxBlock} tokens, got ${total}`);
    reservePositions(this.compute, this.config, this.state, Math.max(...segments.map((s) => s.pos0 + s.tokens.length)));
    const out = this.forwardBlock(segments);
    for (const s of segments) if (s.endForward) s.cache.endForward(s.endForward.firstPos, s.endForward.nTok);
    checkLogitsFinite(out, vocabSize, segments[0]!.pos0);
    return out;
  }

  private forwardBlock(segments: readonly BatchSegment[]): Float32Array {
    const { dim, hiddenDim, nLayers, normEps, vocabSize } = this.config;
    const { compute, weights, state } = this;
    const heap = compute.heap;
    const k = compute.kernels;
    let n = 0;
    for (const s of segments) n += s.tokens.length;
    const pos0 = segments[0]!.pos0; // for error messages
    const qDim = queryDim(this.config);
    const x = state.x.ptr; //     [n, dim] residual stream
    const xb = state.xb.ptr; //   [n, dim] normed input of a sublayer, then its output
    const xq: ActivationScratch = { q8_0: state.xq0.ptr, q8_k: state.xqK.ptr }; // int8 forms of a matrix input
    const att = state.att.ptr; // [n, qDim] attention output of all heads
    const hb = state.hb.ptr; //   [n, hidden] gate, then silu(gate)·up
    const hb2 = state.hb2.ptr; // [n, hidden] up

    const xView = heap.f32(state.x, 0, n * dim);
    let row = 0;
    for (const s of segments) {
      for (let t = 0; t < s.tokens.length; t++, row++) rowOf(weights.tokenEmbedding, s.tokens[t]!, xView.subarray(row * dim, (row + 1) * dim));
    }

    for (let l = 0; l < nLayers; l++) {
      const w = weights.layers[l]!;
      k.rmsnorm(0, n, x, w.attnNorm.ptr, xb, dim, normEps);
      this.projectQkv(w, new LinearInput(compute, xb, xq, dim, n));
      row = 0;
      for (const s of segments) {
        this.attention(l, row, s.pos0, s.tokens.length, s.cache);
        row += s.tokens.length;
      }
      checkRowsFinite(heap.f32(state.att, 0, n * qDim), qDim, pos0, l, "attention output");
      linear(compute, w.wo, new LinearInput(compute, att, xq, qDim, n), xb);
      k.add(0, n * dim, x, xb);

      k.rmsnorm(0, n, x, w.ffnNorm.ptr, xb, dim, normEps);
      const ffnInput = new LinearInput(compute, xb, xq, dim, n);
      linear(compute, w.gate, ffnInput, hb);
      linear(compute, w.up, ffnInput, hb2);
      k.swiglu(0, n * hiddenDim, hb, hb2);
      linear(compute, w.down, new LinearInput(compute, hb, xq, hiddenDim, n), xb);
      k.add(0, n * dim, x, xb);
      checkRowsFinite(heap.f32(state.x, 0, n * dim), dim, pos0, l, "residual stream");
    }

    // the rows whose logits are wanted (each segment's last token, or all its tokens), moved to the front of x in
    // order (x is not read again; rows only move towards the front, so copyWithin never overwrites a row it needs)
    const xAll = heap.f32(state.x, 0, n * dim);
    let rows = 0;
    row = 0;
    for (const s of segments) {
      const len = s.tokens.length;
      const first = s.logits === "all" ? row : s.logits === "last" ? row + len - 1 : row + len;
      const count = row + len - first;
      if (count > 0 && first !== rows) xAll.copyWithin(rows * dim, first * dim, (first + count) * dim);
      rows += count;
      row += len;
    }
    if (rows === 0) return heap.f32(state.logits, 0, 0);
    k.rmsnorm(0, rows, x, weights.outputNorm.ptr, xb, dim, normEps);
    linear(compute, weights.output, new LinearInput(compute, xb, xq, dim, rows), state.logits.ptr); // [rows, vocab]
    return heap.f32(state.logits, 0, rows * vocabSize);
  }

  /**
   * q = Wq·xb + bq  [n, qDim],  k = Wk·xb + bk  [n, kvDim],  v = Wv·xb + bv  [n, kvDim]  (biases when the
   * architecture has them); `input` is the attention norm's output xb [n, dim].
   */
  private projectQkv(w: LayerWeights, input: LinearInput): void {
    const { compute, state } = this;
    const n = input.nTok;
    linear(compute, w.wq, input, state.q.ptr);
    linear(compute, w.wk, input, state.k.ptr);
    linear(compute, w.wv, input, state.v.ptr);
    if (w.qkvBias !== undefined) {
      compute.kernels.add_bias(0, n, state.q.ptr, w.qkvBias.q.ptr, w.wq.rows);
      compute.kernels.add_bias(0, n, state.k.ptr, w.qkvBias.k.ptr, w.wk.rows);
      compute.kernels.add_bias(0, n, state.v.ptr, w.qkvBias.v.ptr, w.wv.rows);
    }
  }

  /**
   * Per-head q/k norm and rotary embedding of one segment's q [n, nHeads, D] and k [n, nKvHeads, D] in place (rows
   * r0..r0+n of the pass, at positions pos0..), the cache append, and attention KV head by KV head through the cache
   * seam into the same rows of att [·, qDim].
   */
  private attention(layer: number, r0: number, pos0: number, n: number, cache: KVCache): void {
    const { nHeads, nKvHeads, headDim, normEps, arch } = this.config;
    const { compute, state } = this;
    const heap = compute.heap;
    const kernels = compute.kernels;
    const kvDim = nKvHeads * headDim;
    const qDim = queryDim(this.config);
    const qPtr = state.q.ptr + r0 * qDim * 4;
    const kPtr = state.k.ptr + r0 * kvDim * 4;
    const qkNorm = this.weights.layers[layer]!.qkNorm;
    if (qkNorm !== undefined) {
      // RMSNorm over each head's D values: the rows of q viewed as [n·nHeads, D] (of k as [n·nKvHeads, D])
      kernels.rmsnorm(0, n * nHeads, qPtr, qkNorm.q.ptr, qPtr, headDim, normEps);
      kernels.rmsnorm(0, n * nKvHeads, kPtr, qkNorm.k.ptr, kPtr, headDim, normEps);
    }
    const rope = arch.ropeStyle === "neox" ? kernels.rope_neox : kernels.rope;
    rope(0, n, qPtr, state.cosSin.ptr, pos0, nHeads, headDim);
    rope(0, n, kPtr, state.cosSin.ptr, pos0, nKvHeads, headDim);
    // before the mix: it adds every row of V (and scores every key) of the block with weight 0 for masked positions,
    // and 0·NaN is NaN, so a bad row here would surface at earlier positions; checked here it is named at its own
    checkRowsFinite(heap.f32(state.k, r0 * kvDim * 4, n * kvDim), kvDim, pos0, layer, "keys");
    checkRowsFinite(heap.f32(state.v, r0 * kvDim * 4, n * kvDim), kvDim, pos0, layer, "values");
    const q = heap.f32(state.q, r0 * qDim * 4, n * qDim); // [n, qDim]
    // logits are q·k/sqrt(D): the scale is folded into the queries once (QAQ's ‖Q‖² is of these scaled queries)
    const scale = 1 / Math.sqrt(headDim);
    for (let i = 0; i < q.length; i++) q[i]! *= scale;
    cache.append(layer, pos0, n, heap.f32(state.k, r0 * kvDim * 4, n * kvDim), heap.f32(state.v, r0 * kvDim * 4, n * kvDim));

    const rep = nHeads / nKvHeads;
    const block: QueryBlock = { firstPos: pos0, nTok: n, nRep: rep };
    const T = cache.storedTokens(layer);
    reservePositions(compute, this.config, state, T); // T <= pos0 + n already reserved: a guard, not a growth
    const rows = n * rep;
    const headSpan = rep * headDim;
    const scores = heap.f32(state.scores, 0, rows * T); // [n·R, T] logits, then probabilities
    const att = heap.f32(state.att, r0 * qDim * 4, n * qDim); // [n, qDim]
    for (let g = 0; g < nKvHeads; g++) {
      // the R query heads of KV head g are contiguous within each token's row of q: [tok][g*R*D .. (g+1)*R*D)
      let qHead: Float32Array; //   [n·R, D]
      let outHead: Float32Array; // [n·R, D]
      if (n === 1) {
        qHead = q.subarray(g * headSpan, (g + 1) * headSpan);
        outHead = att.subarray(g * headSpan, (g + 1) * headSpan);
      } else {
        qHead = heap.f32(state.qHead, 0, rows * headDim);
        outHead = heap.f32(state.outHead, 0, rows * headDim);
        for (let t = 0; t < n; t++) qHead.set(q.subarray(t * qDim + g * headSpan, t * qDim + (g + 1) * headSpan), t * headSpan);
      }
      cache.scores(layer, g, qHead, block, scores);
      if (rows * T >= 1 << 14) compute.parallel("softmax", rows, [state.scores.ptr, T]);
      else compute.kernels.softmax(0, rows, state.scores.ptr, T);
      cache.observe(layer, g, scores, block);
      cache.mix(layer, g, scores, block, outHead);
      if (n > 1) {
        for (let t = 0; t < n; t++) att.set(outHead.subarray(t * headSpan, (t + 1) * headSpan), t * qDim + g * headSpan);
      }
    }
  }
}
