import { isDeepStrictEqual } from "node:util";
import { parseKvSpec } from "../../cache/spec.js";
import { emit } from "../timing.js";
import type { BenchJob, BenchModel, EngineName, JobRecord, PeerKvType, SweepShape } from "./job.js";
import { OUR_BASELINE_CACHE, PEER_BASELINE_CACHE, PEER_CACHE_FOR, THREAD_COUNTS, sweepFor, type PeerSuite } from "./plan.js";
import { runJob } from "./runJob.js";
import { jsonLine } from "./jsonLine.js";

/** Everything measured on one model file. */
export interface ModelResults {
  readonly suite: string;
  readonly model: BenchModel;
  /** the baseline caches at every thread count */
  readonly probes: readonly JobRecord[];
  readonly chosenThreads: Readonly<Record<EngineName, number>>;
  /** every cache of both engines at the chosen thread count */
  readonly runs: readonly JobRecord[];
  /** our caches that could not be set up here (e.g. a spec the parser does not know yet) */
  readonly skipped: readonly { readonly cache: string; readonly reason: string }[];
}

/** How the suite runner reaches the outside: where the peer lives, flags for the children, the time limit per job. */
export interface SuiteContext {
  readonly peerDir: string;
  readonly childExecArgv: readonly string[];
  readonly jobTimeoutSeconds: number;
}

export async function runSuite(suite: PeerSuite, context: SuiteContext): Promise<ModelResults[]> {
  const results: ModelResults[] = [];
  for (const model of await suite.models()) results.push(await runModel(suite, model, context));
  return results;
}

async function runModel(suite: PeerSuite, model: BenchModel, context: SuiteContext): Promise<ModelResults> {
  const run = async (engine: EngineName, cache: string, threads: number, sweep: SweepShape, phase: string): Promise<JobRecord> => {
    const job: BenchJob =
      engine === "qaq"
        ? { engine, model, cache, threads, sweep }
        : { engine, model, cache: cache as PeerKvType, threads, sweep, peerDir: context.peerDir };
    process.stderr.write(`bench:peer: ${suite.name} ${model.label} ${engine} ${cache} threads=${threads} (${phase}) ...\n`);
    const record = await runJob(job, context.jobTimeoutSeconds, context.childExecArgv);
    emit(jsonLine(suite.name, phase, record));
    return record;
  };

  // thread probe: ours and the peer's baseline, interleaved so that both see the same machine load
  const probes: JobRecord[] = [];
  for (const threads of THREAD_COUNTS) {
    probes.push(await run("qaq", OUR_BASELINE_CACHE, threads, suite.threadProbe, "threadProbe"));
    probes.push(await run("llama.cpp", PEER_BASELINE_CACHE, threads, suite.threadProbe, "threadProbe"));
  }
  const chosenThreads = { qaq: fasterThreads(probes, "qaq"), "llama.cpp": fasterThreads(probes, "llama.cpp") };
  emit({ bench: "peer", suite: suite.name, model: model.label, chosenThreads });

  const skipped: { cache: string; reason: string }[] = [];
  const ourCaches = suite.ourCaches.filter((cache) => {
    try {
      parseKvSpec(cache);
      return true;
    } catch (error) {
      skipped.push({ cache, reason: error instanceof Error ? error.message : String(error) });
      emit({ bench: "peer", suite: suite.name, model: model.label, engine: "qaq", cache, skipped: skipped.at(-1)!.reason });
      return false;
    }
  });

  // each of our caches followed by its llama.cpp counterpart (once per type), again for comparable load
  const runs: JobRecord[] = [];
  const peerDone = new Set<string>();
  const runOrReuse = async (engine: EngineName, cache: string): Promise<void> => {
    const threads = chosenThreads[engine];
    const sweep = sweepFor(suite, cache);
    const probe = probes.find((p) => p.job.engine === engine && p.job.cache === cache && p.job.threads === threads);
    runs.push(probe && isDeepStrictEqual(probe.job.sweep, sweep) ? probe : await run(engine, cache, threads, sweep, "run"));
  };
  for (const cache of ourCaches) {
    await runOrReuse("qaq", cache);
    const peerCache = PEER_CACHE_FOR[cache];
    if (peerCache !== undefined && suite.peerCaches.includes(peerCache) && !peerDone.has(peerCache)) {
      peerDone.add(peerCache);
      await runOrReuse("llama.cpp", peerCache);
    }
  }
  for (const peerCache of suite.peerCaches.filter((c) => !peerDone.has(c))) await runOrReuse("llama.cpp", peerCache);
  return { suite: suite.name, model, probes, chosenThreads, runs, skipped };
}

/** The thread count whose probe decoded fastest at the probe's longest context (the first that worked if none did). */
function fasterThreads(probes: readonly JobRecord[], engine: EngineName): number {
  let best = THREAD_COUNTS[0]!;
  let bestSpeed = -1;
  for (const probe of probes) {
    if (probe.job.engine !== engine || !probe.outcome.ok) continue;
    const speed = probe.outcome.measurement.points.at(-1)?.decodeTokensPerSecond ?? 0;
    if (speed > bestSpeed) {
      best = probe.job.threads;
      bestSpeed = speed;
    }
  }
  return best;
}
