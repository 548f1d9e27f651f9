/**
 * The per-task settings of a sweep from its flags: `--limit` and `--data` take either one value for every task or
 * `task=value` pairs (`--limit hellaswag=40,tinystories=4096`); data defaults to each task's shipped copy under
 * `--data-dir`. Every data file is checked before any worker starts, with the task's source and format in the error.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { FileFormatError, UsageError } from "../../util/errors.js";
import type { Scoring } from "../prepareTask.js";
import { defaultDataPath, missingDataProblem } from "../tasks/dataFiles.js";
import type { TaskDefinition } from "../tasks/taskDefinition.js";
import type { SweepTaskSettings } from "./sweepMessages.js";

export interface SweepTaskFlags {
  /** "N" or "task=N,..."; undefined = all items */
  readonly limit: string | undefined;
  /** "task=FILE,..."; undefined = every task's default */
  readonly data: string | undefined;
  readonly dataDir: string;
  readonly seed: number;
  readonly scoring: Scoring;
  readonly ctx: number | null;
}

/** "a=1,b=2" -> {a: "1", b: "2"}; a bare value (no "=") applies to every task under the key "*". */
export function parsePerTask(flag: string, text: string, tasks: readonly TaskDefinition[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const item of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const eq = item.indexOf("=");
    const name = eq < 0 ? "*" : item.slice(0, eq).trim();
    if (name !== "*" && !tasks.some((t) => t.name === name)) {
      throw new UsageError(`--${flag}: "${name}" is not one of the sweep's tasks (${tasks.map((t) => t.name).join(", ")})`);
    }
    values.set(name, eq < 0 ? item : item.slice(eq + 1).trim());
  }
  return values;
}

function parseLimit(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new UsageError(`--limit needs a positive integer per task, got "${text}"`);
  return value;
}

export function sweepTaskSettings(tasks: readonly TaskDefinition[], flags: SweepTaskFlags): SweepTaskSettings[] {
  const limits = flags.limit === undefined ? new Map<string, string>() : parsePerTask("limit", flags.limit, tasks);
  const data = flags.data === undefined ? new Map<string, string>() : parsePerTask("data", flags.data, tasks);
  if (data.has("*")) throw new UsageError("--data takes task=FILE pairs in a sweep (e.g. --data piqa=valid.jsonl)");
  return tasks.map((task) => {
    const limitText = limits.get(task.name) ?? limits.get("*");
    const dataPath = data.get(task.name) ?? defaultDataPath(task, flags.dataDir);
    if (dataPath === undefined) throw new UsageError(`task ${task.name} needs --data ${task.name}=FILE (${task.data.format})`);
    if (!existsSync(dataPath)) throw new FileFormatError(dataPath, missingDataProblem(task.name, task.data));
    return {
      task: task.name,
      dataPath: resolve(dataPath),
      limit: limitText === undefined ? null : parseLimit(limitText),
      seed: flags.seed,
      scoring: flags.scoring,
      ctx: task.kind === "perplexity" ? flags.ctx : null,
    };
  });
}
