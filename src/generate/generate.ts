import type { Engine } from "../engine/Engine.js";
import type { KVCache } from "../cache/KVCache.js";
import { Sampler, type SamplerConfig } from "./sampler.js";
import { ContextOverflowError } from "../util/errors.js";

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
  readonly stoppedBy: "eos" | "max-tokens" | "context";
}

/**
 * Generates up to `maxTokens` tokens after `promptIds` (which should start with BOS), streaming each token as it is
 * produced. Stops at EOS, at the token limit or when the context is full. The returned stats are filled in when the
 * iterator finishes.
 */
export async function* generate(
  engine: Engine,
  cache: KVCache,
  promptIds: Int32Array,
  maxTokens: number,
  sampler: SamplerConfig,
  stats: { value?: GenerationStats },
): AsyncGenerator<GeneratedToken> {
  const { seqLen } = engine.config;
  if (promptIds.length === 0) throw new RangeError("the prompt must hold at least one token (BOS)");
  if (promptIds.length > seqLen) throw new ContextOverflowError(promptIds.length, seqLen, "prompt");
  const choose = new Sampler(sampler);
  const decoder = engine.tokenizer.createStreamDecoder();
  // the decoder drops a leading space right after BOS; BOS itself decodes to "", so priming with it is exact
  if (promptIds[promptIds.length - 1] === engine.tokenizer.bosId) decoder.push(engine.tokenizer.bosId);
  const t0 = performance.now();
  let logits = engine.model.forward(promptIds, 0, cache, "last");
  const t1 = performance.now();
  let pos = promptIds.length;
  let generated = 0;
  let stoppedBy: GenerationStats["stoppedBy"] = "max-tokens";
  const token = new Int32Array(1);
  for (; generated < maxTokens; ) {
    const id = choose.sample(logits);
    if (id === engine.tokenizer.eosId) {
      stoppedBy = "eos";
      break;
    }
    generated++;
    yield { id, text: decoder.push(id) };
    if (generated >= maxTokens) break;
    if (pos >= seqLen) {
      stoppedBy = "context";
      break;
    }
    token[0] = id;
    logits = engine.model.forward(token, pos, cache, "last");
    pos++;
  }
  const tail = decoder.flush();
  if (tail) yield { id: -1, text: tail };
  stats.value = {
    promptTokens: promptIds.length,
    generatedTokens: generated,
    prefillSeconds: (t1 - t0) / 1000,
    decodeSeconds: (performance.now() - t1) / 1000,
    stoppedBy,
  };
}
