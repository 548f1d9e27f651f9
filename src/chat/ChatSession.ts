/**
 * A multi-turn conversation with one model, whose KV cache lives as long as the conversation. Each turn renders the
 * whole conversation with the chat template and encodes it, keeps the longest prefix the cache already holds, and
 * prefills only the rest before generating the reply:
 *
 *   ids   = encode(template(messages + user turn, add_generation_prompt))
 *   keep  = common prefix of ids and the session's fed ids (at most ids.length - 1: the last prompt token is always
 *           fed, its logits start the reply)
 *   cache rolled back to keep (or emptied, for caches that cannot roll back exactly), ids[keep..] prefilled
 *
 * The prefix changes when a template rewrites history (Qwen 3 drops the <think> part of earlier replies) or when the
 * reply's text re-encodes to other ids than were generated; the rollback handles both. The reply is stored as a
 * message with its text trimmed; a reply cut by the AbortSignal is kept as far as it went.
 */
import { cacheReport, type CacheReport } from "../cache/cacheReport.js";
import type { KVCacheConfig } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { commonPrefixLength, Session } from "../engine/Session.js";
import { generateOn, type GeneratedToken, type GenerationStats } from "../generate/generate.js";
import { Sampler, validateSampler, type SamplerConfig } from "../generate/sampler.js";
import { ContextOverflowError } from "../util/errors.js";
import { ChatTemplate, type ChatMessage } from "./chatTemplate.js";
import { chatTokensOf, type ChatTokens } from "./chatTokens.js";

export interface ChatOptions {
  /** KV cache (default fp32) */
  readonly kv?: KVCacheConfig;
  /** a system message put first in every rendering */
  readonly system?: string;
  /** default: the model's own template, else the plain-text format (chatTemplate.ts) */
  readonly template?: ChatTemplate;
  /** default greedy */
  readonly sampler?: SamplerConfig;
  /** tokens per reply at most (default Infinity: until the end of the turn or a full context) */
  readonly maxTokens?: number;
  /** positions the conversation may hold, at most the model's context (default the model's context) */
  readonly ctx?: number;
}

/** What one turn cost and where the cache stands after it. */
export interface ChatTurn {
  readonly reply: string;
  /** tokens of the whole rendered conversation for this turn */
  readonly promptTokens: number;
  /** of them, kept from the cache (not computed again) */
  readonly reusedTokens: number;
  /** of them, prefilled this turn */
  readonly prefilledTokens: number;
  readonly generatedTokens: number;
  readonly stoppedBy: GenerationStats["stoppedBy"];
  readonly prefillSeconds: number;
  readonly decodeSeconds: number;
  /** measured after the turn (hot bytes from the allocated buffers, ratio vs fp16 for the same tokens) */
  readonly cache: CacheReport;
}

export class ChatSession {
  readonly template: ChatTemplate;
  private readonly tokens: ChatTokens;
  private readonly session: Session;
  private readonly sampler: Sampler;
  private readonly maxTokens: number;
  private readonly conversation: ChatMessage[] = [];
  private turn: ChatTurn | undefined;
  private busy = false;

  constructor(
    readonly engine: Engine,
    private readonly options: ChatOptions = {},
  ) {
    this.template = options.template ?? (engine.chatTemplate !== undefined ? new ChatTemplate(engine.chatTemplate, engine.modelPath) : ChatTemplate.plain());
    this.sampler = new Sampler(validateSampler(options.sampler ?? { kind: "greedy" }));
    this.maxTokens = options.maxTokens ?? Infinity;
    this.tokens = chatTokensOf(engine.tokenizer);
    this.session = Session.open(engine, options.kv ?? { kind: "fp32" }, options.ctx ?? engine.config.seqLen);
    if (options.system !== undefined) this.conversation.push({ role: "system", content: options.system });
  }

  /** The conversation so far (system message first when there is one). */
  get messages(): readonly ChatMessage[] {
    return this.conversation;
  }

  /** The last finished turn's figures. */
  get lastTurn(): ChatTurn | undefined {
    return this.turn;
  }

  /** The KV-cache spec in its compact text form. */
  get kvSpec(): string {
    return this.session.cache.spec;
  }

  /** Positions the conversation may hold. */
  get capacity(): number {
    return this.session.capacity;
  }

  /** Positions the cache holds now. */
  get cachedTokens(): number {
    return this.session.position;
  }

  /** The text the template gives the conversation so far plus `pending` messages, as the next turn would see it. */
  render(pending: readonly ChatMessage[] = [], addGenerationPrompt = true): string {
    return this.template.render([...this.conversation, ...pending], {
      addGenerationPrompt,
      bosToken: this.tokens.bosText,
      eosToken: this.tokens.eosText,
    });
  }

  /**
   * Sends a user message and streams the reply token by token. The reply (and the user message) join the
   * conversation when the iterator finishes or `signal` aborts it; if the turn fails before the reply starts (the
   * conversation no longer fits the context), the conversation is left as it was.
   */
  async *send(text: string, signal?: AbortSignal): AsyncGenerator<GeneratedToken> {
    if (this.busy) throw new Error("ChatSession.send: the previous reply is still streaming");
    this.busy = true;
    try {
      const user: ChatMessage = { role: "user", content: text };
      const ids = this.tokens.encode(this.render([user]));
      if (ids.length > this.session.capacity) {
        throw new ContextOverflowError(ids.length, this.session.capacity, "the conversation (start over with /reset, or give a larger --ctx)");
      }
      const reusable = Math.min(commonPrefixLength(this.session.history(), ids), ids.length - 1);
      const kept = this.session.rollBack(reusable);
      this.conversation.push(user);
      const stats: { value?: GenerationStats } = {};
      let reply = "";
      try {
        const options = signal === undefined ? { stopIds: this.tokens.stopIds } : { stopIds: this.tokens.stopIds, signal };
        for await (const token of generateOn(this.session, ids.subarray(kept), this.maxTokens, this.sampler, stats, options)) {
          reply += token.text;
          yield token;
        }
      } finally {
        // a consumer that stops iterating early ends the turn here too: keep what was said
        this.conversation.push({ role: "assistant", content: reply.trim() });
      }
      const s = stats.value!;
      this.turn = {
        reply: reply.trim(),
        promptTokens: ids.length,
        reusedTokens: kept,
        prefilledTokens: ids.length - kept,
        generatedTokens: s.generatedTokens,
        stoppedBy: s.stoppedBy,
        prefillSeconds: s.prefillSeconds,
        decodeSeconds: s.decodeSeconds,
        cache: cacheReport(this.session.cache, this.engine.config),
      };
    } finally {
      this.busy = false;
    }
  }

  /** Forgets the conversation (the system message stays) and empties the cache. */
  reset(): void {
    if (this.busy) throw new Error("ChatSession.reset: a reply is still streaming");
    this.conversation.length = this.options.system !== undefined ? 1 : 0;
    this.session.reset();
    this.turn = undefined;
  }

  /** Frees the cache (the engine stays the caller's). */
  dispose(): void {
    this.session.dispose();
  }
}
