/**
 * Computing the fp32 reference of a prepared task, in memory (one `qaq eval`) or through a file that every later
 * run reuses (a sweep: computed once per model + task + limit + seed + scoring + ctx).
 */
import { resolve } from "node:path";
import type { Engine } from "../../engine/Engine.js";
import { choiceReference } from "../choice/choiceTask.js";
import { generationReference } from "../generationTask.js";
import { perplexityReference } from "../perplexityTask.js";
import { preparedItemCount, type PreparedTask } from "../prepareTask.js";
import { projectVersion } from "../resultLine.js";
import { FileRows, fileSize, loadReference, referenceKey } from "./referenceFile.js";
import type { RunControl } from "../runControl.js";
import { MemoryRows, type ReferenceDetail, type ReferenceMeta, type RowSink, type TaskReference } from "./TaskReference.js";

export function referenceKeyOf(engine: Engine, prepared: PreparedTask): string {
  const s = prepared.settings;
  return referenceKey({ model: engine.modelPath, task: s.task.name, limit: s.limit, seed: s.seed, scoring: s.scoring, ctx: s.ctx });
}

/**
 * `control`: progress after each item (choice item, perplexity window, generation prompt) and Ctrl-C, which ends
 * the pass in an InterruptedError (no item of the evaluated cache is scored before the reference is complete).
 */
function computeDetail(engine: Engine, prepared: PreparedTask, sink: RowSink, control?: RunControl): Promise<ReferenceDetail> {
  switch (prepared.kind) {
    case "choice":
      return choiceReference(engine, prepared, sink, control);
    case "perplexity":
      return perplexityReference(engine, prepared, sink, control);
    case "generation":
      return generationReference(engine, prepared, control);
  }
}

async function compute(engine: Engine, prepared: PreparedTask, sink: RowSink, control?: RunControl): Promise<ReferenceMeta> {
  const started = performance.now();
  const detail = await computeDetail(engine, prepared, sink, control);
  const s = prepared.settings;
  return {
    key: referenceKeyOf(engine, prepared),
    version: projectVersion(),
    model: resolve(engine.modelPath),
    modelBytes: fileSize(engine.modelPath),
    task: s.task.name,
    data: resolve(s.dataPath),
    dataBytes: fileSize(s.dataPath),
    items: preparedItemCount(prepared),
    limit: s.limit,
    seed: s.seed,
    scoring: s.scoring,
    ctx: s.ctx,
    vocab: engine.config.vocabSize,
    rows: sink.rows,
    seconds: (performance.now() - started) / 1000,
    detail,
  };
}

export async function memoryReference(engine: Engine, prepared: PreparedTask, control?: RunControl): Promise<TaskReference> {
  const rows = new MemoryRows(engine.config.vocabSize);
  return rows.reference(await compute(engine, prepared, rows, control));
}

/** The saved reference of this task in `dir`, computed and saved first when missing or stale. */
export async function fileReference(engine: Engine, prepared: PreparedTask, dir: string): Promise<TaskReference> {
  const key = referenceKeyOf(engine, prepared);
  const saved = loadReference(dir, key);
  if (saved) return saved;
  const rows = new FileRows(dir, key, engine.config.vocabSize);
  let meta: ReferenceMeta;
  try {
    meta = await compute(engine, prepared, rows);
  } catch (error) {
    rows.abandon();
    throw error;
  }
  rows.commit(dir, meta);
  const written = loadReference(dir, key);
  if (!written) throw new Error(`reference ${key} was written to ${dir} but cannot be read back`);
  return written;
}
