import { UsageError } from "../../util/errors.js";
import type { BenchJob, JobMeasurement, JobOutcome } from "./job.js";
import { measureOurEngine } from "./ourEngineRunner.js";
import { measureLlamaCpp } from "./llamaCppRunner.js";

/**
 * Child-process entry of the side-by-side benchmark (started by runJob.ts with an IPC channel): runs the one job
 * given as JSON in argv[2], sends back its outcome with this process's peak RSS, and exits. Progress and the
 * engines' own chatter go to stderr; the outcome goes only over IPC.
 */
async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send || process.argv[2] === undefined) throw new UsageError("peer bench child: start it through runJob (needs an IPC channel and a job)");
  const job = JSON.parse(process.argv[2]) as BenchJob;
  let outcome: JobOutcome;
  try {
    const measurement = await measure(job);
    outcome = { ok: true, measurement, peakRssBytes: peakRssBytes(), endRssBytes: process.memoryUsage().rss };
  } catch (error) {
    outcome = { ok: false, error: error instanceof Error ? error.message : String(error), peakRssBytes: peakRssBytes() };
  }
  await new Promise<void>((resolve, reject) => send(outcome, (error: Error | null) => (error ? reject(error) : resolve())));
}

function measure(job: BenchJob): Promise<JobMeasurement> {
  switch (job.engine) {
    case "qaq":
      return measureOurEngine(job);
    case "llama.cpp":
      return measureLlamaCpp(job);
    default: {
      const unreachable: never = job;
      throw new UsageError(`unknown engine in ${JSON.stringify(unreachable)}`);
    }
  }
}

/** resourceUsage().maxRSS is in kilobytes (getrusage ru_maxrss). */
function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`peer bench child: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
