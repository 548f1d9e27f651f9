/**
 * A task made ready for one model: its data read, the items selected (limit, seed) and tokenized. Everything a run
 * scores is fixed here, so the fp32 reference and every cache see the same tokens.
 */
import type { Engine } from "../engine/Engine.js";
import { ConfigError, ContextOverflowError, FileFormatError } from "../util/errors.js";
import { Rng } from "../util/rng.js";
import { characterLength } from "./choice/choiceScoring.js";
import { splitContextContinuation } from "./choice/splitContinuation.js";
import { encodeParagraphs } from "./perplexity.js";
import { readDataText } from "./tasks/dataFiles.js";
import type { ChoiceTask, GenerationTask, PerplexityTask, TaskDefinition } from "./tasks/taskDefinition.js";

/** lm-eval: BOS + context, every continuation token scored. paper: no BOS, per-token mean, first token from fp32. */
export type Scoring = "lm-eval" | "paper";
export const SCORINGS: readonly Scoring[] = ["lm-eval", "paper"];

export interface TaskSettings {
  readonly task: TaskDefinition;
  readonly dataPath: string;
  /** items (choice, generation) or tokens (perplexity); null = all */
  readonly limit: number | null;
  readonly seed: number;
  readonly scoring: Scoring;
  /** perplexity window in tokens; null = the model's context */
  readonly ctx: number | null;
}

export interface TokenizedChoice {
  /** [ctxLen] the shared context, cut from the left when context + longest choice exceed the model's context */
  readonly context: Int32Array;
  /** [choices][tokens] each continuation's tokens */
  readonly continuations: readonly Int32Array[];
  readonly chars: readonly number[];
  readonly gold: number;
}

export type PreparedTask =
  | { readonly kind: "choice"; readonly settings: TaskSettings; readonly items: readonly TokenizedChoice[]; readonly truncatedItems: number }
  /** ids: the token stream; windows of ctx+1 tokens; under the prompt protocol the first promptTokens of each are the prompt */
  | { readonly kind: "perplexity"; readonly settings: TaskSettings; readonly ids: Int32Array; readonly ctx: number; readonly promptTokens: number }
  /** prompts: [n][BOS + promptTokens] */
  | { readonly kind: "generation"; readonly settings: TaskSettings; readonly prompts: readonly Int32Array[]; readonly newTokens: number };

export function prepareTask(engine: Engine, settings: TaskSettings): PreparedTask {
  const task = settings.task;
  switch (task.kind) {
    case "choice":
      return prepareChoice(engine, settings, task);
    case "perplexity":
      return preparePerplexity(engine, settings, task);
    case "generation":
      return prepareGeneration(engine, settings, task);
    default: {
      const unreachable: never = task;
      throw new Error(`unknown task kind ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Items (or tokens, for perplexity) a prepared task scores. */
export function preparedItemCount(prepared: PreparedTask): number {
  switch (prepared.kind) {
    case "choice":
      return prepared.items.length;
    case "perplexity":
      return prepared.ids.length;
    case "generation":
      return prepared.prompts.length;
  }
}

function prepareChoice(engine: Engine, settings: TaskSettings, task: ChoiceTask): PreparedTask {
  const seqLen = engine.config.seqLen;
  // lm-eval adds the special tokens the model's tokenizer adds: BOS for SentencePiece and Llama 3, none for Qwen
  const addBos = settings.scoring === "lm-eval" && engine.tokenizer.addsBos;
  const encode = (text: string) => engine.tokenizer.encode(text, { addBos });
  let truncatedItems = 0;
  const items = selectItems(task.load(settings.dataPath), settings.limit, settings.seed).map((item, index) => {
    const splits = item.continuations.map((continuation) => splitContextContinuation(encode, item.context, continuation));
    let context = splits[0]!.context;
    const continuations = splits.map((s) => s.continuation);
    const longest = Math.max(...continuations.map((c) => c.length));
    if (continuations.some((c) => c.length === 0)) throw new FileFormatError(settings.dataPath, `item ${index + 1}: a choice has no tokens`);
    if (context.length === 0) throw new FileFormatError(settings.dataPath, `item ${index + 1}: the context has no tokens`);
    // the last choice token is never fed: context + longest - 1 positions must fit (lm-eval cuts from the left too)
    const excess = context.length + longest - 1 - seqLen;
    if (excess > 0) {
      if (excess >= context.length) throw new ContextOverflowError(longest, seqLen, `${task.name} item ${index + 1}: a choice`);
      context = context.slice(excess);
      truncatedItems++;
    }
    return { context, continuations, chars: item.choiceTexts.map(characterLength), gold: item.gold };
  });
  return { kind: "choice", settings, items, truncatedItems };
}

function preparePerplexity(engine: Engine, settings: TaskSettings, task: PerplexityTask): PreparedTask {
  const seqLen = engine.config.seqLen;
  const ctx = settings.ctx ?? seqLen;
  if (!Number.isInteger(ctx) || ctx < 2 || ctx > seqLen) throw new ConfigError("ctx", `an integer from 2 to the model's context ${seqLen}`, ctx);
  const text = readDataText(settings.dataPath, task.name, task.data);
  const maxTokens = settings.limit ?? Number.MAX_SAFE_INTEGER;
  const ids = task.encoding === "paragraphs" ? encodeParagraphs(engine, text, maxTokens) : encodePrefix(engine, text, maxTokens);
  if (ids.length < 2) throw new FileFormatError(settings.dataPath, "fewer than 2 tokens to score");
  return { kind: "perplexity", settings, ids, ctx, promptTokens: Math.floor(ctx / 2) };
}

/**
 * The first `maxTokens` tokens of `text` (BOS first) without encoding all of a long file: a growing prefix is
 * encoded until it yields a margin of tokens beyond the ones kept, so the cut cannot change them.
 */
function encodePrefix(engine: Engine, text: string, maxTokens: number): Int32Array {
  const margin = 16;
  for (let chars = Math.min(text.length, 4 * (maxTokens + margin)); ; chars = Math.min(text.length, 2 * chars)) {
    const ids = engine.tokenizer.encode(text.slice(0, chars));
    if (chars >= text.length || ids.length >= maxTokens + margin) return ids.slice(0, maxTokens);
  }
}

function prepareGeneration(engine: Engine, settings: TaskSettings, task: GenerationTask): PreparedTask {
  const text = readDataText(settings.dataPath, task.name, task.data);
  const promptLength = task.promptTokens + 1;
  const newTokens = Math.min(task.newTokens, engine.config.seqLen - promptLength);
  if (newTokens < 1) throw new ContextOverflowError(promptLength + 1, engine.config.seqLen, `${task.name} prompt and one new token`);
  const paragraphs = text.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p !== "");
  const wanted = settings.limit ?? paragraphs.length;
  const prompts: Int32Array[] = [];
  // paragraphs in file order (seed 0) or a seeded order; those too short for a prompt are skipped
  for (const paragraph of selectItems(paragraphs, null, settings.seed)) {
    if (prompts.length >= wanted) break;
    const ids = engine.tokenizer.encode(paragraph);
    if (ids.length > promptLength) prompts.push(ids.slice(0, promptLength));
  }
  if (prompts.length === 0) throw new FileFormatError(settings.dataPath, `no paragraph has more than ${task.promptTokens} tokens to prompt with`);
  return { kind: "generation", settings, prompts, newTokens };
}

/**
 * Which items a run scores: seed 0 takes the first `limit` in file order (as lm-eval's --limit and the paper's
 * "first 1000"); any other seed takes `limit` items drawn without replacement by a seeded Fisher-Yates shuffle.
 */
export function selectItems<T>(items: readonly T[], limit: number | null, seed: number): T[] {
  const n = limit === null ? items.length : Math.min(limit, items.length);
  if (seed === 0) return items.slice(0, n);
  const order = items.map((_, i) => i);
  const rng = new Rng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, n).map((i) => items[i]!);
}
