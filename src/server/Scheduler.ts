/**
 * Runs the server's generation jobs on one engine: at most `parallel` active (each on its own KV cache), the rest
 * waiting in a FIFO queue of at most `maxQueue`; a request beyond that is refused (429) rather than queued without
 * bound. The active jobs advance together, one step at a time, with the event loop run between two steps so new
 * requests, disconnects and signals are handled while generating.
 *
 * A step is one batch (engine/batchFeeds.ts): the pending token of every decoding job, plus chunks of the prompts
 * still being fed (oldest job first) up to `stepTokens` tokens in all, and never less than `minPrefillTokens` of
 * prompt when one waits. The batch runs as shared forward passes, so the weights are read once per pass for every
 * sequence in it. Decode never waits for a whole prompt (chunked prefill): a 500-token prompt arriving while 8
 * streams decode is fed 56 tokens per step, and each of those steps still moves the 8 streams one token.
 */
import type { KVCacheConfig } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { runFeeds, type SessionFeed } from "../engine/batchFeeds.js";
import { errors } from "./apiErrors.js";
import type { GenerationJob } from "./GenerationJob.js";
import type { KvBudget } from "./KvBudget.js";

export interface SchedulerCounters {
  sessionsOpened: number;
  sessionsReleased: number;
  /** jobs cancelled before they finished (client gone, shutdown) */
  jobsCancelled: number;
  /** scheduling steps run, forward passes they took, and tokens fed through them (prompt and decode) */
  steps: number;
  forwardPasses: number;
  tokensFed: number;
}

export interface SchedulerOptions {
  /** positions each session may hold */
  readonly capacity: number;
  readonly parallel: number;
  readonly maxQueue: number;
  /** tokens one step feeds at most, decode and prompt together (default: one forward block, the model's maxBlock) */
  readonly stepTokens?: number;
  /** prompt tokens a step feeds at least when a prompt is waiting, however many jobs decode (default stepTokens/4) */
  readonly minPrefillTokens?: number;
  /** called with the number of tokens each step generated (for the metrics) */
  readonly onTokens?: (count: number) => void;
  /** one cap on the hot KV bytes of all sessions (--kv-budget; KvBudget.ts) */
  readonly kvBudget?: KvBudget;
  /** called after every step, before the jobs that ended are released (the page's cache map, tests) */
  readonly onStep?: (active: readonly GenerationJob[]) => void;
}

export class Scheduler {
  private readonly queue: GenerationJob[] = [];
  private readonly active: GenerationJob[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];
  readonly counters: SchedulerCounters = { sessionsOpened: 0, sessionsReleased: 0, jobsCancelled: 0, steps: 0, forwardPasses: 0, tokensFed: 0 };
  readonly capacity: number;
  readonly parallel: number;
  readonly maxQueue: number;
  readonly stepTokens: number;
  readonly minPrefillTokens: number;
  private readonly onTokens: (count: number) => void;
  readonly kvBudget: KvBudget | undefined;
  private readonly onStep: ((active: readonly GenerationJob[]) => void) | undefined;
  /** the bytes each active job reserved from the budget */
  private readonly reservations = new Map<GenerationJob, number>();

  constructor(
    private readonly engine: Engine,
    private readonly kv: KVCacheConfig,
    options: SchedulerOptions,
  ) {
    this.capacity = options.capacity;
    this.parallel = options.parallel;
    this.maxQueue = options.maxQueue;
    this.stepTokens = options.stepTokens ?? engine.model.maxBlock;
    this.minPrefillTokens = options.minPrefillTokens ?? Math.max(1, Math.floor(this.stepTokens / 4));
    this.onTokens = options.onTokens ?? (() => {});
    this.kvBudget = options.kvBudget;
    this.onStep = options.onStep;
  }

  get queueLength(): number {
    return this.queue.length;
  }

  get activeJobs(): readonly GenerationJob[] {
    return this.active;
  }

  /**
   * Queues a job (FIFO); throws the 429 ApiError when `parallel` are active and the queue is full, and the 503 one
   * when the job alone needs more than the whole --kv-budget.
   */
  submit(job: GenerationJob): void {
    if (this.kvBudget) {
      const positions = job.finalPositions(this.capacity);
      const need = this.kvBudget.need(positions);
      if (need > this.kvBudget.totalBytes) throw errors.kvBudget(need, positions, this.kvBudget.spec, this.kvBudget.totalBytes);
    }
    if (this.active.length >= this.parallel && this.queue.length >= this.maxQueue) throw errors.queueFull(this.active.length, this.queue.length);
    this.queue.push(job);
    if (!this.running) void this.run();
  }

  /** Cancels a job wherever it is; its cache is freed now (steps run synchronously, so never in the middle of one). */
  cancel(job: GenerationJob): void {
    if (job.state === "queued" || job.state === "active") this.counters.jobsCancelled++;
    job.cancel();
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.retire(job);
  }

  /** Cancels every job (shutdown). */
  cancelAll(): void {
    for (const job of [...this.queue, ...this.active]) this.cancel(job);
  }

  /** Resolves when no job is queued or active. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 || this.active.length > 0) {
        this.admit();
        if (this.active.length > 0) this.step();
        // let requests, disconnects and signals in between two steps
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** One step: every decoding job's next token and prompt chunks, through shared forward passes. */
  private step(): void {
    const feeds: SessionFeed[] = [];
    const owners: GenerationJob[] = [];
    const decoding = this.active.filter((job) => job.state === "active" && job.phase === "decode");
    for (const job of decoding) {
      feeds.push(job.nextFeed(1));
      owners.push(job);
    }
    let budget = Math.max(this.stepTokens - decoding.length, this.minPrefillTokens);
    const chunkCalls = this.kvBudget?.mode === "shrink";
    for (const job of this.active) {
      if (budget <= 0) break;
      if (job.state !== "active" || job.phase !== "prefill") continue;
      const feed = job.nextFeed(budget, chunkCalls);
      feeds.push(feed);
      owners.push(job);
      budget -= feed.tokens.length;
    }
    const before = owners.reduce((sum, job) => sum + job.completionTokens, 0);
    if (feeds.length > 0) {
      try {
        if (chunkCalls) this.shareBudget(feeds, owners);
        this.counters.forwardPasses += runFeeds(this.engine, feeds, (i, logits) => owners[i]!.accept(logits));
        this.counters.tokensFed += feeds.reduce((sum, f) => sum + f.tokens.length, 0);
      } catch (error) {
        for (const job of owners) job.fail(error as Error);
      }
      this.counters.steps++;
    }
    const generated = owners.reduce((sum, job) => sum + job.completionTokens, 0) - before;
    if (generated > 0) this.onTokens(generated);
    this.onStep?.(this.active);
    for (const job of [...this.active]) if (job.state !== "active") this.retire(job);
  }

  /** Divides the shrinking caches' budget for this step: every active job, at its position after the step. */
  private shareBudget(feeds: readonly SessionFeed[], owners: readonly GenerationJob[]): void {
    const fed = new Map<GenerationJob, number>(owners.map((job, i) => [job, feeds[i]!.tokens.length]));
    const sessions = [];
    for (const job of this.active) {
      if (job.cache) sessions.push({ cache: job.cache, positionsAfterStep: job.position + (fed.get(job) ?? 0), fed: fed.has(job) });
    }
    this.kvBudget!.share(sessions);
  }

  /**
   * Moves queued jobs to active, oldest first, while there is room (a slot, and with --kv-budget the bytes the job
   * may need: the oldest job waits for them and the ones behind it wait too, so a long request is not starved by
   * short ones); a job whose cache cannot be made fails alone.
   */
  private admit(): void {
    while (this.active.length < this.parallel && this.queue.length > 0) {
      const job = this.queue[0]!;
      const need = this.kvBudget?.need(job.finalPositions(this.capacity)) ?? 0;
      if (this.kvBudget && !this.kvBudget.fits(need)) break;
      this.queue.shift();
      if (!job.open(this.engine, this.kv, this.capacity)) continue;
      this.counters.sessionsOpened++;
      this.active.push(job);
      this.kvBudget?.reserve(need);
      this.reservations.set(job, need);
      if (job.state !== "active") this.retire(job);
    }
  }

  private retire(job: GenerationJob): void {
    const at = this.active.indexOf(job);
    if (at < 0) return;
    this.active.splice(at, 1);
    job.release();
    this.kvBudget?.release(this.reservations.get(job) ?? 0);
    this.reservations.delete(job);
    this.counters.sessionsReleased++;
  }
}
