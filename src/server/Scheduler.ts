/**
 * Runs the server's generation jobs on one engine: at most `parallel` active (each on its own KV cache), the rest
 * waiting in a FIFO queue of at most `maxQueue`; a request beyond that is refused (503) rather than queued without
 * bound. Active jobs take turns, one `advance` (one token) each per round, with the event loop run between two
 * turns so new requests, disconnects and signals are handled while generating. Decode steps are not batched into
 * one forward pass: each turn is its own forward call.
 */
import type { KVCacheConfig } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { errors } from "./apiErrors.js";
import type { GenerationJob } from "./GenerationJob.js";

export interface SchedulerCounters {
  sessionsOpened: number;
  sessionsReleased: number;
  /** jobs cancelled before they finished (client gone, shutdown) */
  jobsCancelled: number;
}

export class Scheduler {
  private readonly queue: GenerationJob[] = [];
  private readonly active: GenerationJob[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];
  readonly counters: SchedulerCounters = { sessionsOpened: 0, sessionsReleased: 0, jobsCancelled: 0 };

  constructor(
    private readonly engine: Engine,
    private readonly kv: KVCacheConfig,
    /** positions each session may hold */
    readonly capacity: number,
    readonly parallel: number,
    readonly maxQueue: number,
    /** called with the number of tokens each turn generated (for the metrics) */
    private readonly onTokens: (count: number) => void = () => {},
  ) {}

  get queueLength(): number {
    return this.queue.length;
  }

  get activeJobs(): readonly GenerationJob[] {
    return this.active;
  }

  /** Queues a job (FIFO); throws the 503 ApiError when `parallel` are active and the queue is full. */
  submit(job: GenerationJob): void {
    if (this.active.length >= this.parallel && this.queue.length >= this.maxQueue) throw errors.busy(this.active.length, this.queue.length);
    this.queue.push(job);
    if (!this.running) void this.run();
  }

  /** Cancels a job wherever it is; its cache is freed now, or right after the turn it is in returns. */
  cancel(job: GenerationJob): void {
    if (job.state === "queued" || job.state === "active") this.counters.jobsCancelled++;
    job.cancel();
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    if (!job.busy) this.retire(job);
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
        for (const job of [...this.active]) {
          if (!this.active.includes(job)) continue;
          const before = job.completionTokens;
          let more = false;
          try {
            more = await job.advance();
          } finally {
            if (job.completionTokens > before) this.onTokens(job.completionTokens - before);
            if (!more) this.retire(job);
          }
          // let requests, disconnects and signals in between two turns
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.running = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Moves queued jobs to active, oldest first, while there is room; a job whose cache cannot be made fails alone. */
  private admit(): void {
    while (this.active.length < this.parallel && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (!job.open(this.engine, this.kv, this.capacity)) continue;
      this.counters.sessionsOpened++;
      this.active.push(job);
    }
  }

  private retire(job: GenerationJob): void {
    const at = this.active.indexOf(job);
    if (at < 0) return;
    this.active.splice(at, 1);
    job.release();
    this.counters.sessionsReleased++;
  }
}
