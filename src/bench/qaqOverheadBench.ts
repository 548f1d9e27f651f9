import { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import { parseKvSpec } from "../cache/spec.js";
import { QaqCache } from "../cache/qaq/QaqCache.js";
import { cacheReport } from "../cache/cacheReport.js";
import type { ReportingCache } from "../cache/CacheReportView.js";
import { argmax } from "../generate/sampler.js";
import { emit } from "./timing.js";

/**
 * QAQ's streaming overhead: greedy decoding to `tokens` positions on a model, with the fp32 cache and with QAQ
 * caches in stream mode, timing every step. Reports the mean step time over the last 64 steps (the cache then holds
 * ~tokens positions), QAQ's own bookkeeping time and re-quantizations per step from its stats, and the bytes held.
 */
export async function benchQaqOverhead(modelPath: string, tokenizerPath: string | undefined, specs: readonly string[], tokens: number, threads: number): Promise<void> {
  const engine = await Engine.load(modelPath, tokenizerPath, threads);
  try {
    for (const spec of ["fp32", ...specs]) {
      const runs = [0, 1, 2].map(() => decodeRun(engine, engine.createCache(parseKvSpec(spec)), tokens));
      const best = runs.sort((a, b) => a.stepMs - b.stepMs)[Math.floor(runs.length / 2)]!;
      emit({ bench: "qaq-overhead", model: modelPath.split("/").pop(), spec, threads, tokens, ...best });
    }
  } finally {
    engine.dispose();
  }
}

interface RunFigures {
  stepMs: number;
  bookkeepingMsPerStep?: number;
  requantizedPerStep?: number;
  hotBytes: number;
  bitsPerValue: number;
}

function decodeRun(engine: Engine, cache: ReportingCache, tokens: number): RunFigures {
  const tail = 64;
  const stepTimes: number[] = [];
  let bookkeepingAtTail = 0;
  let requantizedAtTail = 0;
  const qaq = cache instanceof QaqCache ? cache : undefined;
  const session = new Session(engine, cache);
  let logits = session.prefill(Int32Array.of(engine.tokenizer.bosId));
  for (let pos = 1; pos < tokens; pos++) {
    if (pos === tokens - tail && qaq) {
      bookkeepingAtTail = qaq.stats().bookkeepingMs;
      requantizedAtTail = qaq.stats().requantized;
    }
    const next = argmax(logits);
    const t0 = performance.now();
    logits = session.step(next);
    if (pos >= tokens - tail) stepTimes.push(performance.now() - t0);
  }
  const report = cacheReport(cache, engine.config);
  const figures: RunFigures = {
    stepMs: round(stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length),
    hotBytes: report.hotBytes,
    bitsPerValue: round(report.bitsPerValue),
  };
  if (qaq) {
    const s = qaq.stats();
    figures.bookkeepingMsPerStep = round((s.bookkeepingMs - bookkeepingAtTail) / tail);
    figures.requantizedPerStep = round((s.requantized - requantizedAtTail) / tail);
  }
  cache.dispose();
  return figures;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
