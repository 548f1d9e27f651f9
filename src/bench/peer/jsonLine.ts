import type { JobRecord } from "./job.js";

/**
 * One job as one JSON line (`npm run bench:peer` stdout): the job, then either the measurement (rounded to
 * 3 decimals; bytes as integers) or the error.
 */
export function jsonLine(suite: string, phase: string, record: JobRecord): Record<string, unknown> {
  const { job, outcome } = record;
  const head = {
    bench: "peer",
    suite,
    phase,
    model: job.model.label,
    weightType: job.model.weightType,
    engine: job.engine,
    cache: job.cache,
    threads: job.threads,
    prefillTokens: job.sweep.prefillTokens,
    decodeSteps: job.sweep.decodeSteps,
    repeats: job.sweep.repeats,
    wallSeconds: round(record.wallSeconds),
    loadAverage: round(record.loadAverage),
  };
  if (!outcome.ok) return { ...head, ok: false, error: outcome.error, peakRssBytes: outcome.peakRssBytes };
  const m = outcome.measurement;
  return {
    ...head,
    ok: true,
    engineVersion: m.engineVersion,
    threadsUsed: m.threadsUsed,
    prefillTokensPerSecond: round(m.prefillTokensPerSecond),
    prefillSamples: m.prefillSamples.map(round),
    nextTokenAfterPrefill: m.nextTokenAfterPrefill,
    points: m.points.map((p) => ({
      contextTokens: p.contextTokens,
      decodeTokensPerSecond: round(p.decodeTokensPerSecond),
      decodeSamples: p.decodeSamples.map(round),
      internalDecodeTokensPerSecond: p.internalDecodeTokensPerSecond === null ? null : round(p.internalDecodeTokensPerSecond),
      growSeconds: round(p.growSeconds),
      kvBytes: p.kvBytes,
    })),
    kvSource: m.kv.source,
    kvAllocatedBytes: m.kv.allocatedBytes,
    kvBackingBytes: m.kv.backingBytes,
    peakRssBytes: outcome.peakRssBytes,
    endRssBytes: outcome.endRssBytes,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
