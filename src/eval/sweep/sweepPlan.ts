/**
 * The jobs of a sweep: every (cache spec, task, protocol), in task-major order so the workers of a pool mostly share
 * one task's data, minus the combinations a pinned spec excludes. `--shard i/n` keeps every n-th job of this full,
 * stable list (so shards run on different machines cover it exactly once, and their outputs can be merged).
 */
import { UsageError } from "../../util/errors.js";
import type { EvalProtocol } from "../protocol/evalProtocol.js";
import { resultKey } from "../resultLine.js";
import type { GridEntry } from "./grid.js";
import type { SweepTaskSettings } from "./sweepMessages.js";

export interface SweepJob {
  readonly key: string;
  readonly task: string;
  readonly spec: string;
  readonly protocol: EvalProtocol;
}

export interface Shard {
  /** 1-based */
  readonly index: number;
  readonly count: number;
}

export function planJobs(model: string, tasks: readonly SweepTaskSettings[], grid: readonly GridEntry[], protocols: readonly EvalProtocol[]): SweepJob[] {
  const jobs: SweepJob[] = [];
  for (const t of tasks) {
    for (const entry of grid) {
      for (const protocol of protocols) {
        if (entry.pinned !== undefined && entry.pinned !== protocol) continue;
        const key = resultKey({ model, task: t.task, limit: t.limit, seed: t.seed, scoring: t.scoring, ctx: t.ctx, protocol, spec: entry.spec });
        jobs.push({ key, task: t.task, spec: entry.spec, protocol });
      }
    }
  }
  return jobs;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!(count >= 1 && index >= 1 && index <= count)) throw new UsageError(`--shard must be i/n with 1 <= i <= n (e.g. 1/2), got "${text}"`);
  return { index, count };
}

export function shardJobs<T>(jobs: readonly T[], shard: Shard): T[] {
  return jobs.filter((_, i) => i % shard.count === shard.index - 1);
}
