/**
 * Scores every choice of one multiple-choice item on one cache. The context is prefilled once; the first token of
 * every choice is predicted by the prefill's last logits, the rest by feeding the choice's tokens but its last on
 * top of the context; then the cache is truncated back to the context for the next choice. A cache whose rollback
 * is not exact (KVCache.rollback: eviction, streaming QAQ) gets the context prefilled again for every choice
 * instead, so no choice sees what an earlier one left behind.
 */
import type { Engine } from "../../engine/Engine.js";
import type { CacheMeter } from "../cacheMeter.js";
import { negLogSoftmax } from "../perplexity.js";
import type { EvalCache } from "../protocol/evalProtocol.js";
import type { TokenizedChoice } from "../prepareTask.js";

/**
 * Returns logliks[choice][token] = log p(token | context, earlier choice tokens). `onPosition` sees the logits of
 * every scored position, choice by choice and token by token (the canonical row order of the reference), and is
 * called before the next forward pass overwrites them.
 */
export function scoreChoiceItem(
  engine: Engine,
  evalCache: EvalCache,
  item: TokenizedChoice,
  onPosition: (logits: Float32Array) => void,
  meter: CacheMeter | undefined,
): Float64Array[] {
  const { session, cache } = evalCache;
  const contextLength = item.context.length;
  const prefill = (): Float32Array => {
    session.reset();
    // one forward call: under the prompt protocol the whole context is the prompt; copied, as the next call
    // overwrites the view
    return Float32Array.from(session.prefill(item.context));
  };
  // asked once: whether a cache can roll back is fixed when it is created
  const rollback = cache.rollback;
  let contextLogits = prefill();
  return item.continuations.map((tokens, choice) => {
    if (choice > 0 && rollback.kind !== "exact") contextLogits = prefill();
    const logliks = new Float64Array(tokens.length);
    onPosition(contextLogits);
    logliks[0] = -negLogSoftmax(contextLogits, tokens[0]!);
    if (tokens.length > 1) {
      // one forward call over the choice but its last token; row i predicts token i + 1
      const inputs = tokens.subarray(0, tokens.length - 1);
      session.score(inputs, inputs.length, (i, row) => {
        onPosition(row);
        logliks[i + 1] = -negLogSoftmax(row, tokens[i + 1]!);
      });
    }
    meter?.sample(cache);
    if (rollback.kind === "exact") session.rollBack(contextLength);
    return logliks;
  });
}
