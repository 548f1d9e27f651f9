/**
 * What an evaluation task is: a kind (how it is scored), where its data comes from and how a data file becomes items.
 * Every task lives in its own file under tasks/ and is listed in taskTable.ts; nothing registers itself.
 *
 *   choice      zero-shot multiple choice, lm-eval style (a context, several continuations, one gold index)
 *   perplexity  teacher-forced perplexity of a text, in windows of the model's context
 *   generation  greedy continuations of prompts cut from a text, compared with the fp32 cache's continuations
 */

/** Where a task's data comes from: the copy shipped beside the project, and what a user needs for their own copy. */
export interface DataSource {
  /** path under the shared data folder (../shared/data from the project root), or null when no copy ships */
  readonly bundledPath: string | null;
  /** where to get the data (upstream file names and addresses) */
  readonly where: string;
  /** the format the loader reads */
  readonly format: string;
}

/** One multiple-choice question in lm-eval form: continuations are scored after `context`. */
export interface ChoiceItem {
  readonly context: string;
  /** continuation texts as scored, each with its leading space (" {ending}") */
  readonly continuations: readonly string[];
  /** the choice texts without the delimiter: their character lengths normalise acc_norm (as lm-eval does) */
  readonly choiceTexts: readonly string[];
  readonly gold: number;
}

/** How the text of a perplexity task is cut into tokens. */
export type TextEncoding =
  /** the golden protocol: split on blank lines, strip, BOS before each paragraph */
  | "paragraphs"
  /** the text as is, one BOS at the start */
  | "raw";

interface TaskBase {
  /** the name used on the command line and in result lines */
  readonly name: string;
  readonly summary: string;
  readonly data: DataSource;
}

export interface ChoiceTask extends TaskBase {
  readonly kind: "choice";
  /** number of choices per item (for chance level) */
  readonly choiceCount: number;
  /** reads and validates a data file; throws FileFormatError naming the file and the problem */
  readonly load: (path: string) => readonly ChoiceItem[];
}

export interface PerplexityTask extends TaskBase {
  readonly kind: "perplexity";
  readonly encoding: TextEncoding;
}

export interface GenerationTask extends TaskBase {
  readonly kind: "generation";
  /** tokens of each paragraph (after BOS) that form its prompt */
  readonly promptTokens: number;
  /** greedy tokens generated after each prompt at most */
  readonly newTokens: number;
}

export type TaskDefinition = ChoiceTask | PerplexityTask | GenerationTask;
export type TaskKind = TaskDefinition["kind"];
