/**
 * A sweep: every (cache spec, task, protocol) of a grid, run by worker processes (each loads the model once and runs
 * the engine single-threaded), written as result lines to one JSONL file.
 *   1. plan the jobs (sweepPlan.ts), keep this shard's, skip keys already in the output (--resume);
 *   2. the fp32 reference of every task still needed, one per task, computed once into the reference folder;
 *   3. the runs, handed to whichever worker is free; each finished line is appended and fsynced at once.
 * SIGINT/SIGTERM stop the handing out, kill the workers and keep every finished line; a later --resume goes on
 * from there. Each invocation appends a record of itself (command, wall time, counts) to <out>.runs.jsonl.
 */
import { appendFileSync, existsSync, statSync } from "node:fs";
import { cpus } from "node:os";
import { QaqError, UsageError } from "../../util/errors.js";
import { projectVersion } from "../resultLine.js";
import type { EvalProtocol } from "../protocol/evalProtocol.js";
import type { GridEntry } from "./grid.js";
import { ProgressBar } from "./ProgressBar.js";
import { finishedKeys, ResultsAppender } from "./resultsFile.js";
import type { SweepTaskSettings } from "./sweepMessages.js";
import { planJobs, shardJobs, type Shard, type SweepJob } from "./sweepPlan.js";
import { WorkerProcess } from "./WorkerProcess.js";

export interface SweepRequest {
  readonly model: string;
  readonly tokenizer: string | undefined;
  readonly tasks: readonly SweepTaskSettings[];
  readonly grid: readonly GridEntry[];
  readonly protocols: readonly EvalProtocol[];
  readonly out: string;
  readonly referenceDir: string;
  readonly resume: boolean;
  readonly shard: Shard;
  /** worker processes */
  readonly jobs: number;
  /** engine threads in each worker */
  readonly threads: number;
  /** the command line, for the run record */
  readonly command: string;
}

export interface SweepOutcome {
  readonly planned: number;
  /** already in the output (resume) */
  readonly skipped: number;
  readonly written: number;
  /** neither written nor failed: interrupted, or every worker gone */
  readonly unfinished: number;
  readonly failed: readonly { readonly what: string; readonly message: string }[];
  readonly interrupted: boolean;
  /** the signal that stopped the sweep (SIGINT or SIGTERM) when interrupted */
  readonly signal?: string;
  readonly wallSeconds: number;
}

export interface SweepConsole {
  err(text: string): void;
  readonly terminal: boolean;
  /** no progress bar (failures and the summary are still written) */
  readonly quiet?: boolean;
}

/** Runs items on the workers, each taking the next item when free, until done, stopped or every worker is gone. */
async function drain<T>(workers: readonly WorkerProcess[], items: readonly T[], stopped: () => boolean, work: (w: WorkerProcess, item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    workers.map(async (worker) => {
      while (!stopped() && worker.alive && next < items.length) await work(worker, items[next++]!);
    }),
  );
}

export async function runSweep(request: SweepRequest, log: SweepConsole): Promise<SweepOutcome> {
  const started = new Date();
  const planned = shardJobs(planJobs(request.model, request.tasks, request.grid, request.protocols), request.shard);
  if (existsSync(request.out) && statSync(request.out).size > 0 && !request.resume) {
    throw new UsageError(`${request.out} already holds results: pass --resume to continue it, or choose another --out`);
  }
  const done = request.resume ? finishedKeys(request.out) : new Set<string>();
  const pending = planned.filter((job) => !done.has(job.key));
  let todo = pending;
  const failed: { what: string; message: string }[] = [];
  let written = 0;
  /** runs that failed, or were dropped with their task's failed reference */
  let notRunnable = 0;
  let stopping = false;
  let stoppedBy: string | undefined;
  const outcome = (): SweepOutcome => ({
    planned: planned.length,
    skipped: planned.length - pending.length,
    written,
    unfinished: pending.length - written - notRunnable,
    failed,
    interrupted: stopping,
    ...(stoppedBy !== undefined ? { signal: stoppedBy } : {}),
    wallSeconds: (Date.now() - started.getTime()) / 1000,
  });
  if (todo.length === 0) return outcome();

  const workers = Array.from({ length: Math.max(1, Math.min(request.jobs, todo.length)) }, (_, i) => new WorkerProcess(i + 1));
  const interrupt = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    stopping = true;
    for (const w of workers) w.kill();
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  const appender = new ResultsAppender(request.out);
  try {
    await startWorkers(workers, request).catch((error: unknown) => {
      if (!stopping) throw error;
    });
    const weights = await computeReferences(workers, todo, () => stopping, log, failed);
    todo = todo.filter((job) => weights.has(job.task));
    notRunnable += pending.length - todo.length;
    const totalWeight = todo.reduce((sum, job) => sum + weights.get(job.task)!, 0);
    const progress = new ProgressBar((t) => log.err(t), log.terminal, todo.length, totalWeight, undefined, log.quiet !== true);
    await drain(workers, todo, () => stopping, async (worker, job: SweepJob) => {
      const label = `${job.task} ${job.protocol} ${job.spec}`;
      try {
        const answer = await worker.request({ type: "run", job });
        if (answer.type === "line") {
          appender.append(answer.line);
          written++;
        } else if (answer.type === "failed") {
          notRunnable++;
          failed.push({ what: answer.what, message: answer.message });
          progress.note(`qaq sweep: ${label}: ${answer.message}`);
        }
      } catch (error) {
        if (stopping) return;
        notRunnable++;
        failed.push({ what: job.key, message: (error as Error).message });
        progress.note(`qaq sweep: ${label}: ${(error as Error).message}`);
      }
      progress.advance(weights.get(job.task)!, label);
    });
    progress.finish();
  } finally {
    process.removeListener("SIGINT", interrupt);
    process.removeListener("SIGTERM", interrupt);
    appender.close();
    await Promise.all(workers.map((w) => (stopping ? Promise.resolve(w.kill()) : w.close())));
    recordRun(request, started, outcome(), workers.length);
  }
  return outcome();
}

async function startWorkers(workers: readonly WorkerProcess[], request: SweepRequest): Promise<void> {
  const answers = await Promise.all(
    workers.map((w) =>
      w.request({ type: "init", model: request.model, tokenizer: request.tokenizer, threads: request.threads, referenceDir: request.referenceDir, tasks: request.tasks }),
    ),
  );
  const failure = answers.find((a) => a.type === "failed");
  if (failure?.type === "failed") throw new QaqError("sweep", `${failure.what}: ${failure.message}`);
}

/** The fp32 reference of each task that still has jobs; returns each task's fp32 seconds (its jobs' weight). */
async function computeReferences(
  workers: readonly WorkerProcess[],
  todo: readonly SweepJob[],
  stopped: () => boolean,
  log: SweepConsole,
  failed: { what: string; message: string }[],
): Promise<Map<string, number>> {
  const tasks = [...new Set(todo.map((job) => job.task))];
  const weights = new Map<string, number>();
  log.err(`qaq sweep: fp32 references for ${tasks.join(", ")}\n`);
  await drain(workers, tasks, stopped, async (worker, task) => {
    try {
      const answer = await worker.request({ type: "reference", task });
      if (answer.type === "reference") weights.set(task, Math.max(answer.seconds, 1e-3));
      else if (answer.type === "failed") {
        failed.push({ what: answer.what, message: answer.message });
        log.err(`qaq sweep: ${answer.what}: ${answer.message} (its jobs are skipped)\n`);
      }
    } catch (error) {
      if (!stopped()) failed.push({ what: `the fp32 reference of ${task}`, message: (error as Error).message });
    }
  });
  return weights;
}

/** One JSON line per invocation in <out>.runs.jsonl: what ran, how long it took, how it ended. */
function recordRun(request: SweepRequest, started: Date, outcome: SweepOutcome, workers: number): void {
  const record = {
    command: request.command,
    version: projectVersion(),
    started: started.toISOString(),
    finished: new Date().toISOString(),
    wallSeconds: outcome.wallSeconds,
    planned: outcome.planned,
    skipped: outcome.skipped,
    written: outcome.written,
    failed: outcome.failed.length,
    interrupted: outcome.interrupted,
    workers,
    threadsPerWorker: request.threads,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
  };
  appendFileSync(`${request.out}.runs.jsonl`, `${JSON.stringify(record)}\n`);
}
