/**
 * One evaluation run: one cache spec, under one protocol, on one prepared task, against its fp32 reference; the
 * result is one self-describing JSON line (resultLine.ts).
 */
import { formatKvSpec, parseKvSpec } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { runChoice } from "./choice/choiceTask.js";
import { runGeneration } from "./generationTask.js";
import { runPerplexity } from "./perplexityTask.js";
import { preparedItemCount, type PreparedTask } from "./prepareTask.js";
import { checkProtocolAllowed, configForProtocol, type EvalProtocol } from "./protocol/evalProtocol.js";
import type { TaskReference } from "./reference/TaskReference.js";
import { projectVersion, resultKey, type ResultLine, type TaskRun } from "./resultLine.js";
import type { RunControl } from "./runControl.js";

/** `control`: progress per item and Ctrl-C (the line then covers the items done and says `partial: true`). */
export async function runTask(
  engine: Engine,
  prepared: PreparedTask,
  reference: TaskReference,
  specText: string,
  protocol: EvalProtocol,
  control?: RunControl,
): Promise<ResultLine> {
  const config = parseKvSpec(specText);
  checkProtocolAllowed(specText, protocol);
  const started = performance.now();
  let run: TaskRun;
  switch (prepared.kind) {
    case "choice":
      run = await runChoice(engine, prepared, reference, config, protocol, control);
      break;
    case "perplexity":
      run = await runPerplexity(engine, prepared, reference, config, protocol, control);
      break;
    case "generation":
      run = await runGeneration(engine, prepared, reference, config, protocol, control);
      break;
  }
  const s = prepared.settings;
  const spec = formatKvSpec(config);
  return {
    key: resultKey({ model: engine.modelPath, task: s.task.name, limit: s.limit, seed: s.seed, scoring: s.scoring, ctx: s.ctx, protocol, spec }),
    version: projectVersion(),
    model: engine.modelPath,
    task: s.task.name,
    taskKind: s.task.kind,
    data: s.dataPath,
    items: run.itemsDone ?? preparedItemCount(prepared),
    limit: s.limit,
    seed: s.seed,
    scoring: s.scoring,
    ctx: s.ctx,
    protocol,
    spec,
    runSpec: formatKvSpec(configForProtocol(config, protocol)),
    cache: run.cache,
    metrics: run.metrics,
    fp32: run.fp32,
    seconds: (performance.now() - started) / 1000,
    threads: engine.compute.threads,
    finishedAt: new Date().toISOString(),
    ...(run.itemsDone !== undefined ? { partial: true as const } : {}),
  };
}
