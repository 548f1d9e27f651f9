/**
 * One request's generation on a session of its own (its own KV cache, opened when the scheduler admits it and
 * disposed as soon as it finishes or is cancelled). The job does not run the model: each scheduler step asks it for
 * its next feed (a chunk of its prompt, or the token it sampled last) and, once the step's batched passes ran, hands
 * it the logits of its last token to sample from. The sampling loop is the library's `generateOn`, step for step
 * (same sampler, same stop rules, the last sampled token not fed), so a greedy request alone produces exactly what
 * `generate` produces for the same prompt ids, and within float rounding of it when batched with others.
 */
import type { KVCacheConfig } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import type { SessionFeed } from "../engine/batchFeeds.js";
import { Sampler, type SamplerConfig } from "../generate/sampler.js";
import type { TokenTextStream } from "../tokenizer/Tokenizer.js";
import { ContextOverflowError } from "../util/errors.js";
import { StopStrings } from "./StopStrings.js";

export type FinishReason = "stop" | "length";

export interface JobResult {
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Where a job's output goes (the HTTP response). Exactly one of finish / fail is called, unless cancelled. */
export interface JobSink {
  text(delta: string): void;
  finish(result: JobResult): void;
  fail(error: Error): void;
  /** after each token the job took in (optional: the page's live cache map follows it) */
  fed?(job: GenerationJob): void;
}

export interface JobSpec {
  readonly promptIds: Int32Array;
  readonly maxTokens: number;
  readonly sampler: SamplerConfig;
  readonly stop: readonly string[];
  /** ids that end generation besides EOS (a chat template's end-of-turn tokens) */
  readonly stopIds: readonly number[];
}

export type JobState = "queued" | "active" | "finished" | "cancelled";

export class GenerationJob {
  state: JobState = "queued";
  private session: Session | undefined;
  private sampler: Sampler | undefined;
  private decoder: TokenTextStream | undefined;
  private readonly stopStrings: StopStrings;
  /** the last sampled token, fed at the next step (-1 while the prompt is being fed) */
  private pending = -1;
  private generated = 0;
  private readonly one = new Int32Array(1);

  constructor(
    readonly spec: JobSpec,
    private readonly sink: JobSink,
  ) {
    this.stopStrings = new StopStrings(spec.stop);
  }

  /** Tokens generated so far. */
  get completionTokens(): number {
    return this.generated;
  }

  /** The session's cache while the job is active (for the byte figures in /metrics and the cache map). */
  get cache(): Session["cache"] | undefined {
    return this.session?.cache;
  }

  /** Positions fed so far (prompt and generated tokens). */
  get position(): number {
    return this.session?.position ?? 0;
  }

  /** "prefill" while prompt tokens remain to be fed, then "decode". */
  get phase(): "prefill" | "decode" {
    return this.pending >= 0 ? "decode" : "prefill";
  }

  /** Positions the job can reach: its prompt and max_tokens, at most `capacity`. */
  finalPositions(capacity: number): number {
    return Math.min(capacity, this.spec.promptIds.length + this.spec.maxTokens);
  }

  /** Prompt tokens not fed yet. */
  get promptLeft(): number {
    return this.spec.promptIds.length - this.position;
  }

  /**
   * Opens the job's session on a new cache of `kv` holding at most `capacity` positions. Returns false, with the
   * error sent to the sink, when the cache cannot be made or the prompt does not fit.
   */
  open(engine: Engine, kv: KVCacheConfig, capacity: number): boolean {
    try {
      const { promptIds } = this.spec;
      if (promptIds.length === 0) throw new RangeError("generation needs at least one prompt token");
      if (promptIds.length > capacity) throw new ContextOverflowError(promptIds.length, capacity, "prompt");
      this.sampler = new Sampler(this.spec.sampler);
      this.session = Session.open(engine, kv, capacity);
    } catch (error) {
      this.state = "finished";
      this.sink.fail(error as Error);
      return false;
    }
    const { tokenizer } = engine;
    this.decoder = tokenizer.createStreamDecoder();
    // the decoder drops a leading space right after BOS; BOS itself decodes to "", so priming with it is exact
    if (this.spec.promptIds[this.spec.promptIds.length - 1] === tokenizer.bosId) this.decoder.push(tokenizer.bosId);
    this.state = "active";
    if (this.spec.maxTokens <= 0) this.end("length");
    return true;
  }

  /**
   * What this job feeds in the next step: its pending token, or the next chunk of at most `budget` prompt tokens
   * (ending the prompt's forward call when it is the last chunk, or every chunk with `chunkCalls`: a cache sharing
   * a byte budget plans its widths at each call's end, so its bytes stay bounded while a long prompt goes in).
   */
  nextFeed(budget: number, chunkCalls = false): SessionFeed {
    const session = this.session!;
    if (this.pending >= 0) {
      this.one[0] = this.pending;
      return { session, tokens: this.one, endsCall: true };
    }
    const from = session.position;
    const to = Math.min(this.spec.promptIds.length, from + Math.max(1, budget));
    const last = to === this.spec.promptIds.length;
    return { session, tokens: this.spec.promptIds.subarray(from, to), endsCall: last || chunkCalls, logits: last };
  }

  /**
   * The logits of the job's last fed token (the end of its prompt, or its pending token): samples the next token and
   * streams its text, or ends the job (end of generation, a stop id or string, max_tokens, a full context).
   */
  accept(logits: Float32Array): void {
    if (this.state !== "active") return;
    try {
      const id = this.sampler!.sample(logits);
      const { tokenizer } = this.session!.engine;
      if (tokenizer.isEndOfGeneration(id) || this.spec.stopIds.includes(id)) return this.end("stop");
      this.generated++;
      const text = this.stopStrings.push(this.decoder!.push(id));
      if (text !== "") this.sink.text(text);
      if (this.stopStrings.done) return this.end("stop");
      if (this.generated >= this.spec.maxTokens || this.session!.remaining === 0) return this.end("length");
      this.pending = id;
    } catch (error) {
      this.fail(error as Error);
    } finally {
      this.sink.fed?.(this);
    }
  }

  /** The step this job was in failed (a numerical fault, say): its client gets the error. */
  fail(error: Error): void {
    if (this.state !== "active") return;
    this.state = "finished";
    this.sink.fail(error);
  }

  /** Stops the job; its output is dropped. The cache is freed by `release`. */
  cancel(): void {
    if (this.state === "finished" || this.state === "cancelled") return;
    this.state = "cancelled";
  }

  /** Frees the session's cache (idempotent). */
  release(): void {
    this.session?.dispose();
    this.session = undefined;
  }

  private end(reason: FinishReason): void {
    const tail = this.stopStrings.push(this.decoder!.flush()) + this.stopStrings.flush();
    if (tail !== "") this.sink.text(tail);
    this.state = "finished";
    this.sink.finish({ finishReason: reason, promptTokens: this.spec.promptIds.length, completionTokens: this.generated });
  }
}
