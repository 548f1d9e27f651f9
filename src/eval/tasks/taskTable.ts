/** The evaluation tasks, by command-line name: an explicit table, one task per file. */
import { UsageError } from "../../util/errors.js";
import { HELLASWAG } from "./hellaswag.js";
import { MATHQA } from "./mathqa.js";
import { PIQA } from "./piqa.js";
import { STORY_GENERATION } from "./storyGeneration.js";
import type { TaskDefinition } from "./taskDefinition.js";
import { TEXT_FILE } from "./textFile.js";
import { TINYSTORIES } from "./tinystories.js";
import { WIKITEXT2 } from "./wikitext2.js";

export const TASKS: Readonly<Record<string, TaskDefinition>> = {
  hellaswag: HELLASWAG,
  piqa: PIQA,
  mathqa: MATHQA,
  tinystories: TINYSTORIES,
  wikitext2: WIKITEXT2,
  text: TEXT_FILE,
  generation: STORY_GENERATION,
};

export function findTask(name: string): TaskDefinition {
  const task = Object.hasOwn(TASKS, name) ? TASKS[name] : undefined;
  if (!task) throw new UsageError(`unknown task "${name}" (tasks: ${Object.keys(TASKS).join(", ")})`);
  return task;
}

/** "piqa,hellaswag" -> their definitions, in the order given, without repeats. */
export function parseTaskList(list: string): TaskDefinition[] {
  const names = [...new Set(list.split(",").map((n) => n.trim()).filter((n) => n !== ""))];
  if (names.length === 0) throw new UsageError(`--tasks needs at least one task (tasks: ${Object.keys(TASKS).join(", ")})`);
  return names.map(findTask);
}
