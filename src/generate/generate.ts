import type { Engine } from "../engine/Engine.js";
import type { ReportingCache } from "../cache/CacheReportView.js";
import { Session } from "../engine/Session.js";
import { Sampler, type SamplerConfig } from "./sampler.js";
import { ContextOverflowError } from "../util/errors.js";
import { nextTurn } from "../util/nextTurn.js";

/** One generated token, with its text (possibly "" while a multi-byte character is incomplete). */
export interface GeneratedToken {
  readonly id: number;
  readonly text: string;
}

export interface GenerationStats {
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly prefillSeconds: number;
  readonly decodeSeconds: number;
  readonly stoppedBy: "eos" | "max-tokens" | "context" | "aborted";
}

export interface GenerateOptions {
  /** stops generation between two tokens (stoppedBy "aborted"); the tokens so far stay in the session */
  readonly signal?: AbortSignal;
  /** ids that end generation besides the tokenizer's EOS (a chat template's end-of-turn token) */
  readonly stopIds?: readonly number[];
}

/**
 * Generates up to `maxTokens` tokens after `promptIds` (which should start with BOS), streaming each token as it is
 * produced. Stops at EOS, at the token limit (Infinity: none) or when the context is full. The returned stats are
 * filled in when the iterator finishes. The cache ends holding the prompt and every generated token but the last.
 */
export async function* generate(
  engine: Engine,
  cache: ReportingCache,
  promptIds: Int32Array,
  maxTokens: number,
  sampler: SamplerConfig,
  stats: { value?: GenerationStats },
  options: GenerateOptions = {},
): AsyncGenerator<GeneratedToken> {
  if (promptIds.length === 0) throw new RangeError("the prompt must hold at least one token (BOS)");
  if (promptIds.length > engine.config.seqLen) throw new ContextOverflowError(promptIds.length, engine.config.seqLen, "prompt");
  yield* generateOn(new Session(engine, cache), promptIds, maxTokens, new Sampler(sampler), stats, options);
}

/**
 * The generation loop on a session that may already hold a conversation: `newIds` are fed in one forward call at
 * the session's position (only what the session does not hold yet), then tokens are sampled and fed one by one.
 * The last sampled token is not fed (nothing asks for its logits); a caller that continues feeds it with what
 * follows it. `sampler` is passed as an instance so its random state carries from one call to the next.
 */
export async function* generateOn(
  session: Session,
  newIds: Int32Array,
  maxTokens: number,
  sampler: Sampler,
  stats: { value?: GenerationStats },
  options: GenerateOptions = {},
): AsyncGenerator<GeneratedToken> {
  const { tokenizer } = session.engine;
  if (newIds.length === 0) throw new RangeError("generation needs at least one new token to feed");
  if (newIds.length > session.remaining) throw new ContextOverflowError(session.position + newIds.length, session.capacity, "prompt");
  const stops = new Set(options.stopIds ?? []);
  const decoder = tokenizer.createStreamDecoder();
  // the decoder drops a leading space right after BOS; BOS itself decodes to "", so priming with it is exact
  if (newIds[newIds.length - 1] === tokenizer.bosId) decoder.push(tokenizer.bosId);
  const t0 = performance.now();
  let logits = session.prefill(newIds);
  const t1 = performance.now();
  let generated = 0;
  let stoppedBy: GenerationStats["stoppedBy"] = "max-tokens";
  while (generated < maxTokens) {
    if (options.signal?.aborted) {
      stoppedBy = "aborted";
      break;
    }
    const id = sampler.sample(logits);
    if (tokenizer.isEndOfGeneration(id) || stops.has(id)) {
      stoppedBy = "eos";
      break;
    }
    generated++;
    yield { id, text: decoder.push(id) };
    if (generated >= maxTokens) break;
    if (session.remaining === 0) {
      stoppedBy = "context";
      break;
    }
    // with a signal to watch, let the event loop run (a Ctrl-C handler, a timer) between two steps
    if (options.signal) await nextTurn();
    if (options.signal?.aborted) {
      stoppedBy = "aborted";
      break;
    }
    logits = session.step(id);
  }
  const tail = decoder.flush();
  if (tail) yield { id: -1, text: tail };
  stats.value = {
    promptTokens: newIds.length,
    generatedTokens: generated,
    prefillSeconds: (t1 - t0) / 1000,
    decodeSeconds: (performance.now() - t1) / 1000,
    stoppedBy,
  };
}
