/**
 * A sweep worker process (forked by WorkerProcess.ts): loads the model once, then answers one request at a time:
 * the fp32 reference of a task (computed into the reference folder, or found there), or one run (a result line).
 * Prepared tasks and open references are kept for the worker's life. It exits when its parent disconnects.
 */
import { Engine } from "../../engine/Engine.js";
import { QaqError } from "../../util/errors.js";
import { prepareTask, type PreparedTask } from "../prepareTask.js";
import { fileReference } from "../reference/obtainReference.js";
import type { TaskReference } from "../reference/TaskReference.js";
import { runTask } from "../runTask.js";
import { findTask } from "../tasks/taskTable.js";
import type { FromWorker, SweepTaskSettings, ToWorker } from "./sweepMessages.js";

interface ReadyTask {
  readonly prepared: PreparedTask;
  readonly reference: TaskReference;
}

function send(message: FromWorker): void {
  process.send!(message);
}

function describe(error: unknown): string {
  if (error instanceof QaqError) return error.message;
  return `internal error: ${error instanceof Error ? error.message : String(error)}`;
}

function serve(): void {
  let engine: Engine | undefined;
  let init: Extract<ToWorker, { type: "init" }> | undefined;
  const ready = new Map<string, ReadyTask>();

  const taskReady = async (name: string): Promise<ReadyTask> => {
    const known = ready.get(name);
    if (known) return known;
    const settings: SweepTaskSettings | undefined = init!.tasks.find((t) => t.task === name);
    if (!settings) throw new Error(`task ${name} was not announced to this worker`);
    const prepared = prepareTask(engine!, { ...settings, task: findTask(settings.task) });
    const made = { prepared, reference: await fileReference(engine!, prepared, init!.referenceDir) };
    ready.set(name, made);
    return made;
  };

  const handle = async (message: ToWorker): Promise<void> => {
    switch (message.type) {
      case "init":
        init = message;
        try {
          engine = await Engine.load(message.model, message.tokenizer, message.threads);
          send({ type: "ready" });
        } catch (error) {
          send({ type: "failed", what: "loading the model", message: describe(error), fatal: true });
        }
        return;
      case "reference":
        try {
          send({ type: "reference", task: message.task, seconds: (await taskReady(message.task)).reference.meta.seconds });
        } catch (error) {
          send({ type: "failed", what: `the fp32 reference of ${message.task}`, message: describe(error), fatal: false });
        }
        return;
      case "run":
        try {
          const { prepared, reference } = await taskReady(message.job.task);
          send({ type: "line", line: await runTask(engine!, prepared, reference, message.job.spec, message.job.protocol) });
        } catch (error) {
          send({ type: "failed", what: message.job.key, message: describe(error), fatal: false });
        }
        return;
    }
  };

  // requests are answered strictly in order (the parent sends the next one only after an answer)
  let queue = Promise.resolve();
  process.on("message", (message: ToWorker) => {
    queue = queue.then(() => handle(message));
  });
  process.on("disconnect", () => {
    for (const { reference } of ready.values()) reference.close();
    engine?.dispose();
    process.exit(0);
  });
}

if (process.send) serve();
