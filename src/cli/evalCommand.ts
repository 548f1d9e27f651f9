import { parseKvFlag } from "./kvFlag.js";
import { parseProtocol, checkProtocolAllowed } from "../eval/protocol/evalProtocol.js";
import { preparedItemCount, prepareTask, SCORINGS, type Scoring } from "../eval/prepareTask.js";
import { memoryReference } from "../eval/reference/obtainReference.js";
import { formatResultSummary } from "../eval/resultSummary.js";
import { runTask } from "../eval/runTask.js";
import { defaultDataPath } from "../eval/tasks/dataFiles.js";
import { findTask, TASKS } from "../eval/tasks/taskTable.js";
import { ConfigError, InterruptedError, UsageError } from "../util/errors.js";
import { withInterrupt } from "./interrupt.js";
import { commandProgress, QUIET_FLAG } from "./progress.js";
import { boolFlag, numberFlag, requireString, stringFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { loadEngineFromArgs } from "./generateCommand.js";
import { DEFAULT_THREADS_TEXT } from "./defaults.js";
import type { CliIo } from "./io.js";

export const EVAL_FLAGS: FlagTable = {
  model: { kind: "string", help: "model file (GGUF or llama2.c .bin)", defaultText: "bundled stories260K" },
  tokenizer: { kind: "string", help: "llama2.c tok*.bin (needed for .bin models)" },
  task: { kind: "string", help: `task: ${Object.keys(TASKS).join(", ")} (required)` },
  data: { kind: "string", help: "the task's data file", defaultText: "the shipped copy in ../shared/data" },
  kv: { kind: "string", help: "KV-cache spec", defaultText: "fp32" },
  protocol: { kind: "string", help: "prompt (prefill in full precision, quantize once) or stream", defaultText: "prompt" },
  limit: { kind: "int", help: "items to score (tokens for perplexity tasks)", defaultText: "all" },
  seed: { kind: "int", help: "0 = the first items in file order; else a seeded random subset", defaultText: "0" },
  scoring: { kind: "string", help: "lm-eval or paper (per-token mean, no BOS, first token from fp32)", defaultText: "lm-eval" },
  ctx: { kind: "int", help: "perplexity window in tokens", defaultText: "the model's context" },
  threads: { kind: "int", help: "engine threads", defaultText: DEFAULT_THREADS_TEXT },
  json: { kind: "bool", help: "print the result as one JSON line" },
  quiet: QUIET_FLAG,
};

export function parseScoring(text: string | undefined): Scoring {
  const scoring = text ?? "lm-eval";
  if (!(SCORINGS as readonly string[]).includes(scoring)) throw new UsageError(`--scoring must be ${SCORINGS.join(" or ")}, got "${scoring}"`);
  return scoring as Scoring;
}

export function parseLimitFlag(args: ParsedArgs): number | null {
  const limit = args.flags.get("limit");
  if (limit === undefined) return null;
  if (typeof limit !== "number" || limit < 1) throw new ConfigError("limit", "an integer >= 1", limit);
  return limit;
}

/** `qaq eval`: one cache spec on one task under one protocol, against the fp32 cache on the same items. */
export async function evalCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  const task = findTask(requireString("eval", args, "task"));
  const specText = stringFlag(args, "kv") ?? "fp32";
  parseKvFlag(specText);
  const protocol = parseProtocol(stringFlag(args, "protocol") ?? "prompt");
  checkProtocolAllowed(specText, protocol);
  const dataPath = stringFlag(args, "data") ?? defaultDataPath(task);
  if (dataPath === undefined) throw new UsageError(`qaq eval: task ${task.name} needs --data FILE (${task.data.format})`);
  const seed = numberFlag(args, "seed", 0);
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError("seed", "an integer >= 0", seed);
  const ctx = task.kind === "perplexity" ? (args.flags.get("ctx") as number | undefined) ?? null : null;
  const settings = { task, dataPath, limit: parseLimitFlag(args), seed, scoring: parseScoring(stringFlag(args, "scoring")), ctx };
  const engine = await loadEngineFromArgs(args);
  try {
    const prepared = prepareTask(engine, settings);
    let stoppedBy = "SIGINT";
    const line = await withInterrupt(async (signal) => {
      // Ctrl-C in the fp32 pass: an InterruptedError ("before any item was scored"); in the run: a partial line
      const referenceBar = commandProgress(args, "items", preparedItemCount(prepared));
      const reference = await memoryReference(engine, prepared, { signal, onItem: (done) => referenceBar?.update(done, "fp32 reference") })
        .finally(() => referenceBar?.finish());
      const bar = commandProgress(args, "items", preparedItemCount(prepared));
      const result = await runTask(engine, prepared, reference, specText, protocol, { signal, onItem: (done) => bar?.update(done, specText) })
        .finally(() => bar?.finish());
      if (signal.aborted) stoppedBy = String(signal.reason);
      return result;
    });
    io.out(boolFlag(args, "json") ? `${JSON.stringify(line)}\n` : `${formatResultSummary(line)}\n`);
    if (line.partial) {
      throw new InterruptedError(stoppedBy, `the result above is partial: ${line.items} of ${preparedItemCount(prepared)} items scored`);
    }
  } finally {
    engine.dispose();
  }
}
