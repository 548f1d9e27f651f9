/**
 * Runs fuzz cases [first, first + count) of one run seed over `jobs` worker processes, one case at a time per worker.
 * A case that does not answer within `timeoutMs` is a hang (the worker is killed and replaced); a worker that dies
 * mid-case is a crash; an untyped error or a peak-memory growth above the case's allowance is a failure too.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareCorpus } from "./fuzzCorpus.js";
import type { WorkerReply } from "./fuzzWorker.js";

export type FailureKind = "untyped" | "hang" | "crash" | "memory";

export interface FuzzFailure {
  readonly kind: FailureKind;
  readonly seed: number;
  readonly index: number;
  readonly file?: string;
  readonly mutation?: string;
  readonly stage?: string;
  readonly message: string;
}

export interface FuzzSummary {
  readonly seed: number;
  readonly first: number;
  readonly count: number;
  readonly jobs: number;
  readonly timeoutMs: number;
  readonly seconds: number;
  /** ok / typed (refused with a QaqError) / each failure kind */
  readonly outcomes: Record<string, number>;
  /** typed refusals by error code and stage, e.g. "load file-format" */
  readonly refusals: Record<string, number>;
  readonly failures: readonly FuzzFailure[];
  readonly slowestCaseMs: number;
  /** the slowest case's index and file, to rerun it with --case */
  readonly slowestCase: string;
  readonly largestPeakGrowthBytes: number;
}

export interface FuzzOptions {
  readonly seed: number;
  readonly count: number;
  readonly first?: number;
  readonly jobs: number;
  readonly timeoutMs: number;
  /** Called after every case (progress). */
  readonly onCase?: (done: number) => void;
  readonly onFailure?: (failure: FuzzFailure) => void;
}

const WORKER = new URL("./fuzzWorker.js", import.meta.url);
/** A fresh worker compiles the kernels and reads the corpus before its first case; that is not the case's time. */
const STARTUP_TIMEOUT_MS = 30_000;

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const corpusDir = mkdtempSync(join(tmpdir(), "qaq-fuzz-"));
  try {
    await prepareCorpus(corpusDir);
    return await runCases(options, corpusDir);
  } finally {
    rmSync(corpusDir, { recursive: true, force: true });
  }
}

async function runCases(options: FuzzOptions, corpusDir: string): Promise<FuzzSummary> {
  const first = options.first ?? 0;
  const started = performance.now();
  const outcomes: Record<string, number> = { ok: 0, typed: 0, untyped: 0, hang: 0, crash: 0, memory: 0 };
  const refusals: Record<string, number> = {};
  const failures: FuzzFailure[] = [];
  let next = first;
  let done = 0;
  let slowestCaseMs = 0;
  let slowestCase = "";
  let largestPeakGrowthBytes = 0;

  const fail = (failure: FuzzFailure) => {
    outcomes[failure.kind]!++;
    failures.push(failure);
    options.onFailure?.(failure);
  };
  const record = (reply: WorkerReply) => {
    if (reply.ms > slowestCaseMs) {
      slowestCaseMs = reply.ms;
      slowestCase = `${reply.index} (${reply.file}: ${reply.mutation})`;
    }
    largestPeakGrowthBytes = Math.max(largestPeakGrowthBytes, reply.peakGrowthBytes);
    const { outcome } = reply;
    const base = { seed: options.seed, index: reply.index, file: reply.file, mutation: reply.mutation, stage: outcome.stage };
    if (outcome.status === "untyped") fail({ ...base, kind: "untyped", message: `${outcome.code}: ${outcome.message}` });
    else if (reply.peakGrowthBytes > outcome.allowanceBytes) {
      fail({ ...base, kind: "memory", message: `peak memory grew ${reply.peakGrowthBytes} bytes, allowance ${outcome.allowanceBytes}` });
    } else {
      outcomes[outcome.status]!++;
      if (outcome.status === "typed") {
        const key = `${outcome.stage} ${outcome.code}`;
        refusals[key] = (refusals[key] ?? 0) + 1;
      }
    }
  };

  /** One worker slot: runs cases until none are left, replacing its process after a hang or a crash. */
  const slot = async (): Promise<void> => {
    while (next < first + options.count) {
      const child = await startWorker(corpusDir, options.seed);
      try {
        while (next < first + options.count) {
          const index = next++;
          const result = await oneCase(child, index, options.timeoutMs);
          done++;
          if (result.kind === "reply") record(result.reply);
          else fail({ kind: result.kind, seed: options.seed, index, message: result.message });
          options.onCase?.(done);
          if (result.kind !== "reply") break; // the process is gone or killed: start another
        }
      } finally {
        child.kill("SIGKILL");
      }
    }
  };
  await Promise.all(Array.from({ length: options.jobs }, slot));
  return {
    seed: options.seed,
    first,
    count: options.count,
    jobs: options.jobs,
    timeoutMs: options.timeoutMs,
    seconds: (performance.now() - started) / 1000,
    outcomes,
    refusals,
    failures,
    slowestCaseMs,
    slowestCase,
    largestPeakGrowthBytes,
  };
}

function startWorker(corpusDir: string, seed: number): Promise<ChildProcess> {
  const child = fork(WORKER, [corpusDir, String(seed)], { stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv: ["--max-old-space-size=1024"] });
  child.stderr?.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("fuzz worker did not start"));
    }, STARTUP_TIMEOUT_MS);
    child.once("message", () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`fuzz worker exited (${code}) before it started`));
    });
  });
}

type CaseResult = { kind: "reply"; reply: WorkerReply } | { kind: "hang" | "crash"; message: string };

/**
 * Sends one case and waits for its answer. The limit is `timeoutMs` of the worker's CPU time (read from
 * /proc/PID/stat on Linux), so a machine busy with other work does not turn slow cases into hangs; wall time is
 * capped at WALL_FACTOR times the limit all the same.
 */
function oneCase(child: ChildProcess, index: number, timeoutMs: number): Promise<CaseResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const cpuAtStart = cpuMillis(child.pid);
    const finish = (result: CaseResult) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(result);
    };
    const onMessage = (reply: WorkerReply) => finish({ kind: "reply", reply });
    const onExit = (code: number | null, signal: string | null) => finish({ kind: "crash", message: `worker exited (code ${code}, signal ${signal})` });
    const check = () => {
      const cpu = cpuAtStart === undefined ? undefined : cpuMillis(child.pid)! - cpuAtStart;
      const wall = performance.now() - started;
      if ((cpu ?? wall) >= timeoutMs || wall >= WALL_FACTOR * timeoutMs) {
        child.kill("SIGKILL");
        finish({ kind: "hang", message: `no answer after ${Math.round(cpu ?? wall)} ms of CPU time (${Math.round(wall)} ms wall); limit ${timeoutMs} ms` });
      } else timer = setTimeout(check, Math.max(20, timeoutMs - (cpu ?? wall)));
    };
    let timer = setTimeout(check, timeoutMs);
    child.on("message", onMessage);
    child.on("exit", onExit);
    child.send({ index });
  });
}

const WALL_FACTOR = 10;
const CLOCK_TICK_MS = 10; // USER_HZ = 100 on Linux

/** User + system CPU time of a process in ms, from /proc (undefined where there is no /proc). */
function cpuMillis(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // after the command name: state is field 3, utime field 14, stime field 15 (1-based, man 5 proc)
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return undefined;
  }
}
