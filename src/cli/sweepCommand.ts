import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { parseProtocolList } from "../eval/protocol/evalProtocol.js";
import { readGrid } from "../eval/sweep/grid.js";
import { formatDuration } from "../eval/sweep/ProgressBar.js";
import { runSweep } from "../eval/sweep/runSweep.js";
import { parseShard } from "../eval/sweep/sweepPlan.js";
import { sweepTaskSettings } from "../eval/sweep/sweepTasks.js";
import { SHARED_DATA_DIR } from "../eval/tasks/dataFiles.js";
import { parseTaskList } from "../eval/tasks/taskTable.js";
import { ConfigError, InterruptedError, QaqError } from "../util/errors.js";
import { boolFlag, numberFlag, requireString, stringFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { DEFAULT_MODEL, DEFAULT_TOKENIZER } from "./defaults.js";
import { parseScoring } from "./evalCommand.js";
import type { CliIo } from "./io.js";
import { checkOutputFile } from "./outputPath.js";

/** The grid shipped with the project: the protocol's method list. */
const DEFAULT_GRID = fileURLToPath(new URL("../../../docs/grids/default.txt", import.meta.url));

export const SWEEP_FLAGS: FlagTable = {
  model: { kind: "string", help: "model file (GGUF or llama2.c .bin)", defaultText: "bundled stories260K" },
  tokenizer: { kind: "string", help: "llama2.c tok*.bin (needed for .bin models)" },
  tasks: { kind: "string", help: "comma-separated tasks, e.g. piqa,hellaswag,tinystories (required)" },
  grid: { kind: "string", help: "cache specs: one per line (# comments) or a JSON array", defaultText: "docs/grids/default.txt" },
  out: { kind: "string", help: "results file (JSON lines, appended) (required)" },
  protocols: { kind: "string", help: "prompt,stream or one of them", defaultText: "prompt,stream" },
  limit: { kind: "string", help: "items per task (tokens for perplexity): N, or task=N,...", defaultText: "all" },
  seed: { kind: "int", help: "0 = first items in file order; else a seeded subset", defaultText: "0" },
  scoring: { kind: "string", help: "lm-eval or paper", defaultText: "lm-eval" },
  ctx: { kind: "int", help: "perplexity window in tokens", defaultText: "the model's context" },
  "data-dir": { kind: "string", help: "folder with the shipped data layout", defaultText: "../shared/data" },
  data: { kind: "string", help: "data files per task: task=FILE,..." },
  "reference-dir": { kind: "string", help: "where fp32 references are kept", defaultText: "<out>.ref" },
  shard: { kind: "string", help: "i/n: run every n-th job of the full list, starting at the i-th", defaultText: "1/1" },
  resume: { kind: "bool", help: "continue an existing results file, skipping the runs it holds" },
  jobs: { kind: "int", help: "worker processes", defaultText: "2" },
  threads: { kind: "int", help: "engine threads per worker", defaultText: "1" },
  quiet: { kind: "bool", help: "no progress bar on stderr (failures and the summary are still written)" },
};

function positiveInt(args: ParsedArgs, name: string, fallback: number): number {
  const value = numberFlag(args, name, fallback);
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(name, "an integer >= 1", value);
  return value;
}

/** The command line as typed (flags in the order parsed), for the run record. */
function commandLine(args: ParsedArgs): string {
  const parts = ["qaq", "sweep", ...args.positional];
  for (const [name, value] of args.flags) parts.push(value === true ? `--${name}` : `--${name} ${String(value)}`);
  return parts.join(" ");
}

export async function sweepCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  const out = resolve(requireString("sweep", args, "out"));
  checkOutputFile("--out", out);
  const tasks = parseTaskList(requireString("sweep", args, "tasks"));
  const grid = readGrid(stringFlag(args, "grid") ?? DEFAULT_GRID);
  const seed = numberFlag(args, "seed", 0);
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError("seed", "an integer >= 0", seed);
  const ctx = args.flags.get("ctx") as number | undefined;
  const taskSettings = sweepTaskSettings(tasks, {
    limit: stringFlag(args, "limit"),
    data: stringFlag(args, "data"),
    dataDir: stringFlag(args, "data-dir") ?? SHARED_DATA_DIR,
    seed,
    scoring: parseScoring(stringFlag(args, "scoring")),
    ctx: ctx ?? null,
  });
  const model = stringFlag(args, "model");
  const outcome = await runSweep(
    {
      model: resolve(model ?? DEFAULT_MODEL),
      tokenizer: stringFlag(args, "tokenizer") ?? (model === undefined ? DEFAULT_TOKENIZER : undefined),
      tasks: taskSettings,
      grid,
      protocols: parseProtocolList(stringFlag(args, "protocols") ?? "prompt,stream"),
      out,
      referenceDir: resolve(stringFlag(args, "reference-dir") ?? `${out}.ref`),
      resume: boolFlag(args, "resume"),
      shard: parseShard(stringFlag(args, "shard") ?? "1/1"),
      jobs: positiveInt(args, "jobs", 2),
      threads: positiveInt(args, "threads", 1),
      command: commandLine(args),
    },
    { err: (t) => io.err(t), terminal: process.stderr.isTTY === true, quiet: boolFlag(args, "quiet") },
  );
  io.err(
    `qaq sweep: ${outcome.written} lines written, ${outcome.skipped} of ${outcome.planned} already in ${out}, ` +
      `${outcome.failed.length} failed, ${formatDuration(outcome.wallSeconds)} wall time\n`,
  );
  if (outcome.interrupted) throw new InterruptedError(outcome.signal ?? "SIGINT", `interrupted: finished lines are kept in ${out}; run the same command with --resume to go on`);
  if (outcome.unfinished > 0) throw new QaqError("sweep", `${outcome.unfinished} runs were not run (the workers exited); run the same command with --resume`);
  if (outcome.failed.length > 0) {
    throw new QaqError("sweep", `${outcome.failed.length} runs failed:\n${outcome.failed.map((f) => `  ${f.what}: ${f.message}`).join("\n")}`);
  }
}
