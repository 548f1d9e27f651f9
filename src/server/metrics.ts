/**
 * `GET /metrics` in the Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then `name value`
 * lines. KV bytes are measured: the sum over the active sessions' caches of the bytes their buffers hold (hot) and
 * of their backing store, as cacheReport gives them.
 */
import { cacheReport } from "../cache/cacheReport.js";
import type { ModelConfig } from "../model/config.js";
import type { Scheduler } from "./Scheduler.js";

/** Tokens generated per second over the last `windowSeconds` whole seconds (one bucket per second). */
export class TokenRate {
  private readonly buckets: number[];
  private readonly bucketSecond: number[];

  constructor(
    private readonly windowSeconds = 10,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.buckets = new Array<number>(windowSeconds).fill(0);
    this.bucketSecond = new Array<number>(windowSeconds).fill(-1);
  }

  add(count: number, at = this.now()): void {
    const second = Math.floor(at / 1000);
    const i = second % this.windowSeconds;
    if (this.bucketSecond[i] !== second) {
      this.bucketSecond[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += count;
  }

  /** Tokens per second over the last window (the current, partial second excluded). */
  perSecond(at = this.now()): number {
    const current = Math.floor(at / 1000);
    let total = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      const s = this.bucketSecond[i]!;
      if (s < current && s >= current - this.windowSeconds) total += this.buckets[i]!;
    }
    return total / this.windowSeconds;
  }
}

export class ServerMetrics {
  tokensGenerated = 0;
  promptTokens = 0;
  readonly requests = new Map<number, number>();
  readonly rate = new TokenRate();

  countTokens(count: number): void {
    this.tokensGenerated += count;
    this.rate.add(count);
  }

  countRequest(status: number): void {
    this.requests.set(status, (this.requests.get(status) ?? 0) + 1);
  }

  render(scheduler: Scheduler, config: ModelConfig): string {
    let hot = 0;
    let backing = 0;
    for (const job of scheduler.activeJobs) {
      if (!job.cache) continue;
      const report = cacheReport(job.cache, config);
      hot += report.hotBytes;
      backing += report.backingBytes;
    }
    const lines: string[] = [];
    const metric = (name: string, type: "counter" | "gauge", help: string, values: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of values) lines.push(`${name}${labels} ${formatValue(value)}`);
    };
    metric("qaq_tokens_generated_total", "counter", "Tokens generated since the server started.", [["", this.tokensGenerated]]);
    metric("qaq_prompt_tokens_total", "counter", "Prompt tokens of the requests finished since the server started.", [["", this.promptTokens]]);
    metric("qaq_tokens_per_second", "gauge", "Tokens generated per second, all requests together, over the last 10 s.", [["", this.rate.perSecond()]]);
    metric("qaq_queue_length", "gauge", "Requests waiting for a generation slot.", [["", scheduler.queueLength]]);
    metric("qaq_active_sessions", "gauge", "Requests generating now, each with its own KV cache.", [["", scheduler.activeJobs.length]]);
    metric("qaq_parallel_sessions", "gauge", "Requests that may generate at once (--parallel).", [["", scheduler.parallel]]);
    metric("qaq_sessions_opened_total", "counter", "KV caches created for requests.", [["", scheduler.counters.sessionsOpened]]);
    metric("qaq_sessions_released_total", "counter", "KV caches freed (finished, failed or cancelled requests).", [["", scheduler.counters.sessionsReleased]]);
    metric("qaq_scheduler_steps_total", "counter", "Scheduling steps run (each feeds every active request its next tokens).", [["", scheduler.counters.steps]]);
    metric("qaq_forward_passes_total", "counter", "Batched forward passes run (the weights are read once per pass for all its tokens).", [["", scheduler.counters.forwardPasses]]);
    metric("qaq_tokens_fed_total", "counter", "Tokens fed through the forward passes (prompt and decode, all requests).", [["", scheduler.counters.tokensFed]]);
    metric("qaq_kv_hot_bytes", "gauge", "Bytes allocated by the active sessions' KV caches (measured buffers).", [["", hot]]);
    metric("qaq_kv_backing_bytes", "gauge", "Bytes of the active sessions' KV caches' backing store.", [["", backing]]);
    if (scheduler.kvBudget) {
      metric("qaq_kv_budget_bytes", "gauge", "The --kv-budget: hot KV bytes all sessions may hold together.", [["", scheduler.kvBudget.totalBytes]]);
      metric("qaq_kv_reserved_bytes", "gauge", "Bytes of the budget reserved by the active sessions (what each may need at its last position).", [["", scheduler.kvBudget.reservedBytes]]);
    }
    metric(
      "qaq_requests_total",
      "counter",
      "HTTP requests answered, by status code.",
      [...this.requests].sort((a, b) => a[0] - b[0]).map(([status, n]) => [`{code="${status}"}`, n]),
    );
    return lines.join("\n") + "\n";
  }
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
