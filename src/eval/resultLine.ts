/**
 * One result line of `qaq eval --json` and `qaq sweep`: one (cache spec, task, protocol) with every metric, the
 * fp32 figures on the same items, the measured memory and both compression ratios, and what it was run on.
 * `key` identifies the run: a sweep resumes by skipping keys already in its output.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { CacheSummary } from "./cacheMeter.js";
import type { Scoring } from "./prepareTask.js";
import type { EvalProtocol } from "./protocol/evalProtocol.js";
import type { TaskKind } from "./tasks/taskDefinition.js";

/** Named metrics of a run (snake_case, lm-eval style); every value is a number. */
export type Metrics = Record<string, number>;

/** What one cache scored on one prepared task: the body of a result line. */
export interface TaskRun {
  readonly metrics: Metrics;
  /** the same metrics of the fp32 cache on the same items (from the reference) */
  readonly fp32: Metrics;
  readonly cache: CacheSummary;
  /** Set when the run was interrupted: the metrics (and fp32's) cover this many items only. */
  readonly itemsDone?: number;
}

export interface ResultLine {
  readonly key: string;
  readonly version: string;
  readonly model: string;
  readonly task: string;
  readonly taskKind: TaskKind;
  readonly data: string;
  /** items scored (choice, generation) or tokens (perplexity) */
  readonly items: number;
  readonly limit: number | null;
  readonly seed: number;
  readonly scoring: Scoring;
  readonly ctx: number | null;
  readonly protocol: EvalProtocol;
  /** the cache spec in its compact form (formatKvSpec) */
  readonly spec: string;
  /** the spec as run under the protocol (QAQ's mode follows the protocol) */
  readonly runSpec: string;
  readonly cache: CacheSummary;
  readonly metrics: Metrics;
  readonly fp32: Metrics;
  readonly seconds: number;
  readonly threads: number;
  readonly finishedAt: string;
  /** Present (true) only when the run was interrupted and `items` counts the items scored before it stopped. */
  readonly partial?: true;
}

export interface ResultKeyParts {
  readonly model: string;
  readonly task: string;
  readonly limit: number | null;
  readonly seed: number;
  readonly scoring: string;
  readonly ctx: number | null;
  readonly protocol: string;
  readonly spec: string;
}

export function resultKey(p: ResultKeyParts): string {
  return [basename(p.model), p.task, `n=${p.limit ?? "all"}`, `seed=${p.seed}`, p.scoring, `ctx=${p.ctx ?? "model"}`, p.protocol, p.spec].join("|");
}

/** The package version (package.json at the project root: dist/src/eval/ -> ../../../), stamped on every result. */
export function projectVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}
