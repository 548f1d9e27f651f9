/**
 * One request's generation on a session of its own (its own KV cache, opened when the scheduler admits it and
 * disposed as soon as it finishes or is cancelled). The scheduler calls `advance` once per round: the first call
 * prefills the prompt and samples the first token, each later call feeds one token and samples the next, so the
 * requests it interleaves move one token each per round. The loop itself is the library's `generateOn`, so a
 * greedy request produces exactly what `generate` produces for the same prompt ids.
 */
import type { KVCacheConfig } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import { generateOn, type GeneratedToken, type GenerationStats } from "../generate/generate.js";
import { Sampler, type SamplerConfig } from "../generate/sampler.js";
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
  /** true while `advance` runs (a cancel then waits for it to return before freeing the cache) */
  busy = false;
  private session: Session | undefined;
  private tokens: AsyncGenerator<GeneratedToken> | undefined;
  private readonly stats: { value?: GenerationStats } = {};
  private readonly abort = new AbortController();
  private readonly stopStrings: StopStrings;
  private generated = 0;

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

  /** The session's cache while the job is active (for the byte figures in /metrics). */
  get cache(): Session["cache"] | undefined {
    return this.session?.cache;
  }

  /**
   * Opens the job's session on a new cache of `kv` holding at most `capacity` positions. Returns false, with the
   * error sent to the sink, when the cache cannot be made.
   */
  open(engine: Engine, kv: KVCacheConfig, capacity: number): boolean {
    try {
      this.session = Session.open(engine, kv, capacity);
    } catch (error) {
      this.state = "finished";
      this.sink.fail(error as Error);
      return false;
    }
    this.state = "active";
    this.tokens = generateOn(this.session, this.spec.promptIds, this.spec.maxTokens, new Sampler(this.spec.sampler), this.stats, {
      stopIds: this.spec.stopIds,
      signal: this.abort.signal,
    });
    return true;
  }

  /** One round: the prefill and first token, or one more token. Returns false when the job has ended. */
  async advance(): Promise<boolean> {
    if (this.state !== "active") return false;
    this.busy = true;
    try {
      const next = await this.tokens!.next();
      if (this.state !== "active") return false;
      if (next.done) {
        this.end(this.stats.value!.stoppedBy === "eos" ? "stop" : "length");
        return false;
      }
      if (next.value.id >= 0) this.generated++;
      const text = this.stopStrings.push(next.value.text);
      if (text !== "") this.sink.text(text);
      if (this.stopStrings.done) {
        await this.tokens!.return(undefined);
        this.end("stop");
        return false;
      }
      return true;
    } catch (error) {
      this.state = "finished";
      this.sink.fail(error as Error);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Stops the job; its output is dropped. The cache is freed by `release` (at once unless `advance` is running). */
  cancel(): void {
    if (this.state === "finished" || this.state === "cancelled") return;
    this.state = "cancelled";
    this.abort.abort();
  }

  /** Frees the session's cache (idempotent). */
  release(): void {
    this.session?.dispose();
    this.session = undefined;
  }

  private end(reason: FinishReason): void {
    const tail = this.stopStrings.flush();
    if (tail !== "") this.sink.text(tail);
    this.state = "finished";
    this.sink.finish({ finishReason: reason, promptTokens: this.spec.promptIds.length, completionTokens: this.generated });
  }
}
