import { Engine } from "../engine/Engine.js";
import { parseKvSpec } from "../cache/spec.js";
import { QaqServer } from "../server/QaqServer.js";
import { emit } from "./timing.js";

/**
 * Load and faults on `qaq serve` (in-process, 127.0.0.1, a free port): `clients` concurrent streaming clients send
 * `requests` chat completions in all; every fourth is aborted by its client after its first streamed text. Counted:
 * requests that should have succeeded and did not (wrong status, a stream without [DONE], no text), time to first
 * token and tokens per second per request (p50, p99), aggregate tokens per second, and the process's resident memory
 * after the first 20 requests, half way and after the run (a leak keeps growing; warm-up levels off), with the
 * server's own counters
 * (sessions opened = released, caches freed).
 */
export async function benchServeLoad(label: string, modelPath: string, tokenizerPath: string | undefined, kv: string, clients: number, requests: number, maxTokens: number): Promise<void> {
  const engine = await Engine.load(modelPath, tokenizerPath, 2);
  const server = await QaqServer.start({ engine, kv: parseKvSpec(kv), port: 0, host: "127.0.0.1", parallel: clients, maxQueue: requests });
  const prompts = ["Tell me a story.", "What did the cat eat?", "Once upon a time there was a dog.", "Why is the sky blue?", "Lily had a red ball."];
  const ttft: number[] = [];
  const rates: number[] = [];
  let failed = 0;
  let cancelled = 0;
  let completionTokens = 0;
  let rssAfter20 = 0;
  let rssAtHalf = 0;
  let done = 0;
  let next = 0;
  const t0 = performance.now();
  const one = async (i: number): Promise<void> => {
    const cancel = i % 4 === 3;
    const abort = new AbortController();
    const start = performance.now();
    let first = 0;
    let text = "";
    let finished = false;
    try {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ model: server.modelId, messages: [{ role: "user", content: prompts[i % prompts.length] }], max_tokens: maxTokens, temperature: 0.8, seed: i, stream: true, stream_options: { include_usage: true } }),
        signal: abort.signal,
      });
      if (res.status !== 200 || !res.body) throw new Error(`status ${res.status}`);
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        const bytes = read.value;
        for (const line of decoder.decode(bytes as Uint8Array, { stream: true }).split("\n")) {
          if (!line.startsWith("data: ")) continue;
          const data = line.slice(6);
          if (data === "[DONE]") {
            finished = true;
            continue;
          }
          const chunk = JSON.parse(data) as { choices: { delta: { content?: string } }[]; usage?: { completion_tokens: number } | null; error?: unknown };
          if (chunk.error) throw new Error(JSON.stringify(chunk.error));
          const delta = chunk.choices[0]?.delta.content ?? "";
          if (delta !== "" && first === 0) first = performance.now();
          text += delta;
          if (chunk.usage) {
            completionTokens += chunk.usage.completion_tokens;
            rates.push(chunk.usage.completion_tokens / ((performance.now() - first) / 1000));
          }
        }
        if (cancel && text !== "") {
          await reader.cancel().catch(() => {});
          abort.abort();
          cancelled++;
          return;
        }
      }
      if (!finished || text === "") throw new Error("stream ended without [DONE] or text");
      ttft.push(first - start);
    } catch (error) {
      if (!(cancel && abort.signal.aborted)) {
        failed++;
        process.stderr.write(`request ${i}: ${(error as Error).message}\n`);
      }
    } finally {
      done++;
      if (done === 20) rssAfter20 = process.memoryUsage().rss;
      if (done === Math.floor(requests / 2)) rssAtHalf = process.memoryUsage().rss;
    }
  };
  const worker = async (): Promise<void> => {
    while (next < requests) await one(next++);
  };
  await Promise.all(Array.from({ length: clients }, worker));
  const seconds = (performance.now() - t0) / 1000;
  // let the server notice the last disconnects before reading its counters
  await new Promise((r) => setTimeout(r, 200));
  const rssAfter = process.memoryUsage().rss;
  const { sessionsOpened, sessionsReleased, jobsCancelled } = server.scheduler.counters;
  await server.close();
  engine.dispose();
  const pct = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! * 10) / 10;
  };
  emit({
    bench: "serve-load",
    model: label,
    kv,
    clients,
    requests,
    maxTokens,
    cancelledByClient: cancelled,
    failed,
    ttftMsP50: pct(ttft, 0.5),
    ttftMsP99: pct(ttft, 0.99),
    tokensPerSecondPerRequestP50: pct(rates, 0.5),
    tokensPerSecondPerRequestP99Low: pct(rates, 0.01),
    aggregateCompletionTokensPerSecond: Math.round(completionTokens / seconds),
    seconds: Math.round(seconds * 10) / 10,
    rssAfter20Mb: Math.round(rssAfter20 / 2 ** 20),
    rssAtHalfMb: Math.round(rssAtHalf / 2 ** 20),
    rssAfterRunMb: Math.round(rssAfter / 2 ** 20),
    rssGrowthSecondHalf: Math.round((rssAfter / rssAtHalf - 1) * 1000) / 1000,
    rssGrowth: Math.round((rssAfter / rssAfter20 - 1) * 1000) / 1000,
    sessionsOpened,
    sessionsReleased,
    jobsCancelled,
  });
}
