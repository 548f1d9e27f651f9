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
import { MemoryRows, type ReferenceDetail, type ReferenceMeta, type RowSink, type TaskReference } from "./TaskReference.js";

export function referenceKeyOf(engine: Engine, prepared: PreparedTask): string {
  const s = prepared.settings;
  return referenceKey({ model: engine.modelPath, task: s.task.name, limit: s.limit, seed: s.seed, scoring: s.scoring, ctx: s.ctx });
}

/** Called after each item (choice item, perplexity window, generation prompt) of a reference pass: a progress bar. */
export type ItemProgress = (done: number, total: number) => void;

function computeDetail(engine: Engine, prepared: PreparedTask, sink: RowSink, onItem?: ItemProgress): ReferenceDetail {
  switch (prepared.kind) {
    case "choice":
      return choiceReference(engine, prepared, sink, onItem);
    case "perplexity":
      return perplexityReference(engine, prepared, sink, onItem);
    case "generation":
      return generationReference(engine, prepared, onItem);
  }
}

function compute(engine: Engine, prepared: PreparedTask, sink: RowSink, onItem?: ItemProgress): ReferenceMeta {
  const started = performance.now();
  const detail = computeDetail(engine, prepared, sink, onItem);
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

export function memoryReference(engine: Engine, prepared: PreparedTask, onItem?: ItemProgress): TaskReference {
  const rows = new MemoryRows(engine.config.vocabSize);
  return rows.reference(compute(engine, prepared, rows, onItem));
}

/** The saved reference of this task in `dir`, computed and saved first when missing or stale. */
export function fileReference(engine: Engine, prepared: PreparedTask, dir: string): TaskReference {
  const key = referenceKeyOf(engine, prepared);
  const saved = loadReference(dir, key);
  if (saved) return saved;
  const rows = new FileRows(dir, key, engine.config.vocabSize);
  let meta: ReferenceMeta;
  try {
    meta = compute(engine, prepared, rows);
  } catch (error) {
    rows.abandon();
    throw error;
  }
  rows.commit(dir, meta);
  const written = loadReference(dir, key);
  if (!written) throw new Error(`reference ${key} was written to ${dir} but cannot be read back`);
  return written;
}
