import { spawn, type ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import { defaultThreads } from "../cli/defaults.js";
import { emit, median } from "./timing.js";

/**
 * Threads never hurt (issue 12, point 4): decode speed of one model at --threads 1 and 2, with and without a
 * deliberate competing process (a busy loop in a child process, so one of the 2 cores is taken). Both engines are
 * loaded side by side and timed in alternating blocks (1, 2, 1, 2, ...) so that the load of the shared machine falls on
 * both alike; the figure is the median over blocks of the ratio 2-thread / 1-thread tok/s within each pair. Also
 * records the thread count the CLI would pick for the model (cli/defaults.ts defaultThreads) and the 1-minute load
 * average before and after.
 */
export async function benchThreads(label: string, modelPath: string, tokenizerPath: string | undefined, contextTokens: number, decodeTokens: number, pairs: number): Promise<void> {
  const engines = [await Engine.load(modelPath, tokenizerPath, 1), await Engine.load(modelPath, tokenizerPath, 2)] as const;
  try {
    for (const competing of [false, true]) {
      const busy = competing ? startBusyLoop() : null;
      try {
        const load = loadavg()[0]!;
        const speeds: [number[], number[]] = [[], []];
        const ratios: number[] = [];
        for (let pair = 0; pair < pairs; pair++) {
          // alternate which thread count goes first, so a drift in load within a pair favours neither
          const order = pair % 2 === 0 ? [0, 1] : [1, 0];
          const got = [0, 0];
          for (const e of order) got[e] = decodeSpeed(engines[e]!, contextTokens, decodeTokens);
          speeds[0].push(got[0]!);
          speeds[1].push(got[1]!);
          ratios.push(got[1]! / got[0]!);
        }
        emit({
          bench: "threads",
          model: label,
          competingProcess: competing,
          contextTokens,
          decodeTokens,
          pairs,
          oneThreadTokensPerSecond: round(median(speeds[0])),
          twoThreadsTokensPerSecond: round(median(speeds[1])),
          twoOverOne: round(median(ratios)),
          twoOverOneRange: [round(Math.min(...ratios)), round(Math.max(...ratios))],
          defaultThreads: defaultThreads(modelPath),
          loadAverage1m: [round(load), round(loadavg()[0]!)],
        });
      } finally {
        busy?.kill();
      }
    }
  } finally {
    for (const engine of engines) engine.dispose();
  }
}

/** tok/s of `decodeTokens` greedy-free decode steps after a prefill of `contextTokens` tokens (fp32 cache). */
function decodeSpeed(engine: Engine, contextTokens: number, decodeTokens: number): number {
  const { vocabSize } = engine.config;
  const token = (i: number) => (i === 0 ? 1 : 259 + ((i * 7919) % (vocabSize - 259)));
  const session = Session.open(engine, { kind: "fp32" }, contextTokens + decodeTokens + 1);
  try {
    session.prefill(Int32Array.from({ length: contextTokens }, (_, i) => token(i)));
    const t0 = performance.now();
    for (let i = 0; i < decodeTokens; i++) session.step(token(contextTokens + i));
    return decodeTokens / ((performance.now() - t0) / 1000);
  } finally {
    session.dispose();
  }
}

/** A child process that keeps one core busy until killed (its own process: it competes like any other program). */
function startBusyLoop(): ChildProcess {
  const child = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  child.unref();
  return child;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
