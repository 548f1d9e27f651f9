/**
 * lm-eval's context/continuation tokenization rule: trailing whitespace of the context moves to the front of the
 * continuation; then context + continuation are encoded together and split at the length of the context's own
 * encoding:
 *   contextIds = encode(context'),  whole = encode(context' + continuation'),  continuationIds = whole[len(contextIds):]
 * so the continuation's first token is the one the tokenizer produces at the boundary in running text.
 */
export interface SplitTokens {
  readonly context: Int32Array;
  readonly continuation: Int32Array;
}

export function splitContextContinuation(
  encode: (text: string) => Int32Array,
  context: string,
  continuation: string,
): SplitTokens {
  const kept = context.trimEnd();
  const moved = context.slice(kept.length) + continuation;
  const contextIds = encode(kept);
  const whole = encode(kept + moved);
  return { context: contextIds, continuation: whole.slice(contextIds.length) };
}
