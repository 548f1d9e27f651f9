import { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import { runFeeds, type SessionFeed } from "../engine/batchFeeds.js";
import { parseKvSpec } from "../cache/spec.js";
import { argmax } from "../generate/sampler.js";
import { emit, median } from "./timing.js";

/**
 * Aggregate decode speed of S concurrent streams (what `qaq serve` does with S requests generating at once):
 *   batched  every step feeds the S pending tokens through shared forward passes (engine/batchFeeds.ts);
 *   turns    the streams take turns, one Session.step each (one forward pass per token: the server before batching).
 * Each stream first prefills its own prompt (not timed), then decodes `decodeTokens` greedy tokens; the figure is
 * S·decodeTokens / decode seconds, the median of `repeats` rounds, modes and stream counts interleaved within each
 * round so that load from other jobs on the machine falls on all of them alike. Ratios are against S = 1 of the
 * same run: absolute figures from different runs are not comparable on a shared machine. Beside wall-clock tokens per
 * second, tokens per CPU second of this process (process.cpuUsage, one thread): on a machine crowded with other jobs
 * the wall clock mostly measures waiting for a core, the CPU time what the work costs.
 */
export async function benchBatchDecode(label: string, modelPath: string, tokenizerPath: string | undefined, threads: number, kv: string, streamCounts: readonly number[], decodeTokens: number, repeats = 3): Promise<void> {
  const engine = await Engine.load(modelPath, tokenizerPath, threads);
  try {
    const modes = ["batched", "turns"] as const;
    const times = new Map<string, number[]>();
    const cpuTimes = new Map<string, number[]>();
    for (let round = 0; round < repeats; round++) {
      for (const streams of streamCounts) {
        for (const mode of modes) {
          const { seconds, cpuSeconds } = decodeRun(engine, kv, streams, decodeTokens, mode);
          const key = `${mode}:${streams}`;
          times.set(key, [...(times.get(key) ?? []), seconds]);
          cpuTimes.set(key, [...(cpuTimes.get(key) ?? []), cpuSeconds]);
        }
      }
    }
    for (const mode of modes) {
      const single = (streamCounts[0]! * decodeTokens) / median(times.get(`${mode}:${streamCounts[0]}`)!);
      const singleCpu = (streamCounts[0]! * decodeTokens) / median(cpuTimes.get(`${mode}:${streamCounts[0]}`)!);
      for (const streams of streamCounts) {
        const tps = (streams * decodeTokens) / median(times.get(`${mode}:${streams}`)!);
        const tpcs = (streams * decodeTokens) / median(cpuTimes.get(`${mode}:${streams}`)!);
        emit({
          bench: "batch-decode",
          model: label,
          kv,
          threads,
          mode,
          streams,
          decodeTokensPerStream: decodeTokens,
          aggregateTokensPerSecond: round(tps),
          ratioVsSingleStream: round(tps / single),
          tokensPerCpuSecond: round(tpcs),
          cpuRatioVsSingleStream: round(tpcs / singleCpu),
          rounds: repeats,
        });
      }
    }
  } finally {
    engine.dispose();
  }
}

/** Wall and CPU seconds to decode `decodeTokens` tokens on each of `streams` sessions after their prompts. */
function decodeRun(engine: Engine, kv: string, streams: number, decodeTokens: number, mode: "batched" | "turns"): { seconds: number; cpuSeconds: number } {
  const { vocabSize } = engine.config;
  const sessions = Array.from({ length: streams }, () => Session.open(engine, parseKvSpec(kv)));
  try {
    // distinct prompts of 16 ordinary tokens (ids above the byte pieces), BOS first
    const next = sessions.map((session, s) => {
      const prompt = Int32Array.from({ length: 16 }, (_, i) => (i === 0 ? 1 : 259 + ((i * 7919 + s * 104729) % (vocabSize - 259))));
      return argmax(session.prefill(prompt));
    });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let step = 0; step < decodeTokens; step++) {
      if (mode === "turns") {
        sessions.forEach((session, s) => (next[s] = argmax(session.step(next[s]!))));
      } else {
        const feeds: SessionFeed[] = sessions.map((session, s) => ({ session, tokens: Int32Array.of(next[s]!), endsCall: true }));
        runFeeds(engine, feeds, (s, logits) => (next[s] = argmax(logits)));
      }
    }
    const cpu = process.cpuUsage(cpu0);
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    for (const session of sessions) session.dispose();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
