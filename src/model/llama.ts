import type { Compute } from "../kernels/Compute.js";
import type { KVCache, QueryBlock } from "../cache/KVCache.js";
import type { ModelConfig } from "./config.js";
import { rowOf, type Weights } from "./weights.js";
import { linear, quantizeActivations } from "./linear.js";
import type { ForwardState } from "./state.js";
import { ContextOverflowError, NumericError } from "../util/errors.js";

/**
 * The LLaMA forward pass, top to bottom. A block of nTok consecutive tokens (a prompt chunk, or one decode token)
 * goes through every layer at once, so the projections are matrix-matrix products during prefill:
 *
 *   x = embed(tokens)                                              [nTok, dim]
 *   per layer:  xb = rmsnorm(x)·w_att
 *               q, k, v = Wq·xb, Wk·xb, Wv·xb; rope(q, k); q /= sqrt(headDim)
 *               cache.append(k, v)
 *               per KV head: scores = cache.scores(q) -> softmax -> cache.observe -> cache.mix -> att
 *               x += Wo·att
 *               xb = rmsnorm(x)·w_ffn;  x += W_down·(silu(W_gate·xb) ⊙ W_up·xb)
 *   logits = W_out·rmsnorm(x)·w_out_norm                           [nTok or 1, vocab]
 *
 * The cache alone knows how K and V are stored; this file never sees packed bits.
 */
export type LogitsWanted = "last" | "all";

export class LlamaModel {
  constructor(
    readonly config: ModelConfig,
    private readonly compute: Compute,
    private readonly weights: Weights,
    private readonly state: ForwardState,
  ) {}

  /**
   * Runs `tokens` at positions pos0.. through the model, appending to `cache`. Returns a view of the logits:
   * [vocab] of the last token, or [tokens.length, vocab] for "all" (valid until the next call).
   */
  forward(tokens: Int32Array, pos0: number, cache: KVCache, wanted: LogitsWanted): Float32Array {
    const { seqLen, vocabSize } = this.config;
    if (pos0 + tokens.length > seqLen) throw new ContextOverflowError(pos0 + tokens.length, seqLen, "model context");
    if (tokens.length === 0) throw new RangeError("forward needs at least one token");
    const B = this.state.maxBlock;
    const all = wanted === "all" ? new Float32Array(tokens.length * vocabSize) : undefined;
    let last: Float32Array | undefined;
    for (let start = 0; start < tokens.length; start += B) {
      const n = Math.min(B, tokens.length - start);
      const needAll = all !== undefined;
      const logits = this.forwardBlock(tokens.subarray(start, start + n), pos0 + start, cache, needAll);
      if (all) all.set(logits, start * vocabSize);
      else if (start + n === tokens.length) last = logits;
    }
    // one endForward per forward call, not per block: a prompt is one pass however it is blocked (QAQ's prompt mode
    // and prompt compression quantize "the prompt" at this point)
    cache.endForward(pos0, tokens.length);
    const out = all ?? last!;
    checkFinite(out, "logits");
    return out;
  }

  private forwardBlock(tokens: Int32Array, pos0: number, cache: KVCache, allLogits: boolean): Float32Array {
    const { dim, nLayers, normEps, vocabSize } = this.config;
    const { compute, weights, state } = this;
    const heap = compute.heap;
    const k = compute.kernels;
    const n = tokens.length;
    const x = state.x.ptr;
    const xb = state.xb.ptr;
    const xq = state.xq.ptr;

    const xView = heap.f32(state.x, 0, n * dim);
    for (let t = 0; t < n; t++) rowOf(weights.tokenEmbedding, tokens[t]!, xView.subarray(t * dim, (t + 1) * dim));

    for (let l = 0; l < nLayers; l++) {
      const w = weights.layers[l]!;
      k.rmsnorm(0, n, x, w.attnNorm.ptr, xb, dim, normEps);
      quantizeActivations(compute, xb, xq, dim, n);
      linear(compute, w.wq, xb, xq, state.q.ptr, n);
      linear(compute, w.wk, xb, xq, state.k.ptr, n);
      linear(compute, w.wv, xb, xq, state.v.ptr, n);
      this.attention(l, pos0, n, cache);
      quantizeActivations(compute, state.att.ptr, xq, dim, n);
      linear(compute, w.wo, state.att.ptr, xq, xb, n);
      k.add(0, n * dim, x, xb);

      k.rmsnorm(0, n, x, w.ffnNorm.ptr, xb, dim, normEps);
      quantizeActivations(compute, xb, xq, dim, n);
      linear(compute, w.gate, xb, xq, state.hb.ptr, n);
      linear(compute, w.up, xb, xq, state.hb2.ptr, n);
      k.swiglu(0, n * this.config.hiddenDim, state.hb.ptr, state.hb2.ptr);
      quantizeActivations(compute, state.hb.ptr, xq, this.config.hiddenDim, n);
      linear(compute, w.down, state.hb.ptr, xq, xb, n);
      k.add(0, n * dim, x, xb);
    }

    // logits for every token of the block, or only for the last one
    const first = allLogits ? 0 : n - 1;
    const rows = n - first;
    const xLast = x + first * dim * 4;
    k.rmsnorm(0, rows, xLast, weights.outputNorm.ptr, xb, dim, normEps);
    quantizeActivations(compute, xb, xq, dim, rows);
    linear(compute, weights.output, xb, xq, state.logits.ptr, rows);
    return heap.f32(state.logits, 0, rows * vocabSize);
  }

  /** Rotary embedding, the cache append, and attention head group by head group through the cache seam. */
  private attention(layer: number, pos0: number, n: number, cache: KVCache): void {
    const { nHeads, nKvHeads, headDim, dim } = this.config;
    const { compute, state } = this;
    const heap = compute.heap;
    const kvDim = nKvHeads * headDim;
    compute.kernels.rope(0, n, state.q.ptr, state.cosSin.ptr, pos0, nHeads, headDim);
    compute.kernels.rope(0, n, state.k.ptr, state.cosSin.ptr, pos0, nKvHeads, headDim);
    const q = heap.f32(state.q, 0, n * dim);
    // logits are q·k/sqrt(D): the scale is folded into the queries once (QAQ's ‖Q‖² is of these scaled queries)
    const scale = 1 / Math.sqrt(headDim);
    for (let i = 0; i < q.length; i++) q[i]! *= scale;
    cache.append(layer, pos0, n, heap.f32(state.k, 0, n * kvDim), heap.f32(state.v, 0, n * kvDim));

    const rep = nHeads / nKvHeads;
    const block: QueryBlock = { firstPos: pos0, nTok: n, nRep: rep };
    const T = cache.storedTokens(layer);
    const rows = n * rep;
    const headSpan = rep * headDim;
    const scores = heap.f32(state.scores, 0, rows * T);
    const att = heap.f32(state.att, 0, n * dim);
    for (let g = 0; g < nKvHeads; g++) {
      // the R query heads of KV head g are contiguous within each token's row of q: [tok][g*R*D .. (g+1)*R*D)
      let qHead: Float32Array;
      let outHead: Float32Array;
      if (n === 1) {
        qHead = q.subarray(g * headSpan, (g + 1) * headSpan);
        outHead = att.subarray(g * headSpan, (g + 1) * headSpan);
      } else {
        qHead = heap.f32(state.qHead, 0, rows * headDim);
        outHead = heap.f32(state.outHead, 0, rows * headDim);
        for (let t = 0; t < n; t++) qHead.set(q.subarray(t * dim + g * headSpan, t * dim + (g + 1) * headSpan), t * headSpan);
      }
      cache.scores(layer, g, qHead, block, scores);
      if (rows * T >= 1 << 14) compute.parallel("softmax", rows, [state.scores.ptr, T]);
      else compute.kernels.softmax(0, rows, state.scores.ptr, T);
      cache.observe(layer, g, scores, block);
      cache.mix(layer, g, scores, block, outHead);
      if (n > 1) {
        for (let t = 0; t < n; t++) att.set(outHead.subarray(t * headSpan, (t + 1) * headSpan), t * dim + g * headSpan);
      }
    }
  }
}

function checkFinite(values: Float32Array, where: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) throw new NumericError(where);
  }
}
