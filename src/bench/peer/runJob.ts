import { fork } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { BenchJob, JobOutcome, JobRecord } from "./job.js";

const CHILD_SCRIPT = fileURLToPath(new URL("./child.js", import.meta.url));

/**
 * Runs one job in a fresh child process (child.ts) and waits for its outcome. The child's stdout and stderr both go
 * to this process's stderr, so stdout stays pure JSON lines. A child that dies, or outlives `timeoutSeconds`
 * (then killed), gives a failed outcome saying so. `execArgv` passes Node flags such as --cpu-prof to the child.
 */
export function runJob(job: BenchJob, timeoutSeconds: number, execArgv: readonly string[]): Promise<JobRecord> {
  const started = performance.now();
  const loadAverage = loadavg()[0]!;
  return new Promise((resolve) => {
    const child = fork(CHILD_SCRIPT, [JSON.stringify(job)], { stdio: ["ignore", 2, 2, "ipc"], execArgv: [...execArgv] });
    let outcome: JobOutcome | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutSeconds * 1000);
    child.on("message", (message) => {
      outcome = message as JobOutcome;
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const failure = timedOut
        ? `killed after the ${timeoutSeconds} s limit`
        : `the child process ended (code ${code}, signal ${signal}) without an outcome`;
      resolve({
        job,
        outcome: outcome ?? { ok: false, error: failure, peakRssBytes: 0 },
        wallSeconds: (performance.now() - started) / 1000,
        loadAverage,
      });
    });
  });
}
