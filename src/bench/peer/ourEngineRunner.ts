import { readFileSync } from "node:fs";
import { Engine } from "../../engine/Engine.js";
import { Session } from "../../engine/Session.js";
import { parseKvSpec } from "../../cache/spec.js";
import { cacheReport } from "../../cache/cacheReport.js";
import { argmax } from "../../generate/sampler.js";
import type { BenchJob, JobMeasurement } from "./job.js";
import { runSweep, sweepCapacity, type SessionUnderTest } from "./sweep.js";

type OurJob = Extract<BenchJob, { engine: "qaq" }>;

/** Runs one job on this engine: the GGUF file loaded with its own vocabulary, one cache sized for the whole sweep. */
export async function measureOurEngine(job: OurJob): Promise<JobMeasurement> {
  const engine = await Engine.load(job.model.path, undefined, job.threads);
  try {
    const cache = engine.createCache(parseKvSpec(job.cache), sweepCapacity(job.sweep));
    try {
      const ours = new Session(engine, cache);
      const session: SessionUnderTest = {
        vocabSize: engine.config.vocabSize,
        reset: async () => ours.reset(),
        feed: async (tokens, pos) => {
          if (pos !== ours.position) throw new Error(`peer sweep: fed at position ${pos}, the session is at ${ours.position}`);
          return argmax(ours.prefill(tokens));
        },
        kvBytes: () => cacheReport(cache, engine.config).hotBytes,
        evalCounters: async () => null,
      };
      const sweep = await runSweep(session, job.sweep);
      return {
        ...sweep,
        kv: {
          source: "cacheReport hotBytes (codes + metadata + outliers + residual, as allocated)",
          allocatedBytes: null,
          backingBytes: cacheReport(cache, engine.config).backingBytes,
        },
        threadsUsed: engine.compute.threads,
        engineVersion: `qaq-kv ${packageVersion()}`,
      };
    } finally {
      cache.dispose();
    }
  } finally {
    engine.dispose();
  }
}

function packageVersion(): string {
  // dist/src/bench/peer/ -> the project root
  const manifest = JSON.parse(readFileSync(new URL("../../../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}
