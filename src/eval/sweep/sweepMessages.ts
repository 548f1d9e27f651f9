/**
 * What the sweep's parent process and its worker processes say to each other over the fork IPC channel. Everything
 * is plain JSON: a worker is told the model and the tasks once, then handed one reference or one run at a time.
 */
import type { Scoring } from "../prepareTask.js";
import type { ResultLine } from "../resultLine.js";
import type { SweepJob } from "./sweepPlan.js";

/** A task as the sweep runs it (TaskSettings with the task by name, so it crosses the process boundary). */
export interface SweepTaskSettings {
  readonly task: string;
  readonly dataPath: string;
  readonly limit: number | null;
  readonly seed: number;
  readonly scoring: Scoring;
  readonly ctx: number | null;
}

export type ToWorker =
  | {
      readonly type: "init";
      readonly model: string;
      readonly tokenizer: string | undefined;
      readonly threads: number;
      readonly referenceDir: string;
      readonly tasks: readonly SweepTaskSettings[];
    }
  /** compute (or find) the fp32 reference of a task */
  | { readonly type: "reference"; readonly task: string }
  | { readonly type: "run"; readonly job: SweepJob };

export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "reference"; readonly task: string; readonly seconds: number }
  | { readonly type: "line"; readonly line: ResultLine }
  /** a job (or the reference of a task, or the init) failed; the worker stays usable unless `fatal` */
  | { readonly type: "failed"; readonly what: string; readonly message: string; readonly fatal: boolean };
