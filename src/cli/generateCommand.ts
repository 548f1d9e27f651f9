import { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import { generateOn, type GenerationStats } from "../generate/generate.js";
import { Sampler, validateSampler, type SamplerConfig } from "../generate/sampler.js";
import { parseKvFlag } from "./kvFlag.js";
import { cacheReport, describeCacheReport } from "../cache/cacheReport.js";
import { boolFlag, numberFlag, stringFlag, tokenLimitFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { ConfigError, ContextOverflowError } from "../util/errors.js";
import { DEFAULT_MODEL, DEFAULT_THREADS_TEXT, DEFAULT_TOKENIZER, defaultThreads } from "./defaults.js";
import type { CliIo } from "./io.js";
import { commandProgress, QUIET_FLAG } from "./progress.js";
import type { ProgressBar } from "../eval/sweep/ProgressBar.js";

export const GENERATE_FLAGS: FlagTable = {
  model: { kind: "string", help: "model file (GGUF or llama2.c .bin)", defaultText: "bundled stories260K" },
  tokenizer: { kind: "string", help: "llama2.c tok*.bin (needed for .bin models)" },
  prompt: { kind: "string", help: "text to continue", defaultText: '"" (start from BOS)' },
  "max-tokens": { kind: "int", help: "tokens to generate at most; -1 = until end of text or a full context", defaultText: "256" },
  ctx: { kind: "int", help: "context in tokens (prompt + generated), at most the model's", defaultText: "the model's context" },
  temperature: { kind: "number", help: "0 = greedy; > 0 samples", defaultText: "0" },
  "top-k": { kind: "int", help: "keep the k most likely tokens (0 = all)", defaultText: "0" },
  "top-p": { kind: "number", help: "nucleus: keep the smallest set reaching p", defaultText: "0.9" },
  seed: { kind: "int", help: "random seed for sampling", defaultText: "42" },
  threads: { kind: "int", help: "threads (main + workers)", defaultText: DEFAULT_THREADS_TEXT },
  kv: { kind: "string", help: "KV-cache spec (fp32, fp16, ...; see README)", defaultText: "fp32" },
  json: { kind: "bool", help: "print one JSON object (text, ids, speed, cache bytes and ratios) instead of streaming" },
  quiet: QUIET_FLAG,
};

/** Loads the model named by --model/--tokenizer, or the bundled default. */
export async function loadEngineFromArgs(args: ParsedArgs): Promise<Engine> {
  const model = stringFlag(args, "model");
  const tokenizer = stringFlag(args, "tokenizer") ?? (model === undefined ? DEFAULT_TOKENIZER : undefined);
  // a bar follows the file read when stderr is a terminal (the bulk of loading a large model)
  let bar: ProgressBar | undefined;
  const onProgress = (done: number, total: number) => {
    bar ??= commandProgress(args, "bytes", total);
    bar?.update(done, `loading ${model ?? DEFAULT_MODEL}`);
  };
  try {
    return await Engine.load(model ?? DEFAULT_MODEL, tokenizer, numberFlag(args, "threads", defaultThreads(model ?? DEFAULT_MODEL)), { onProgress });
  } finally {
    bar?.finish();
  }
}

/** --ctx: the positions a session may hold (cache capacity), checked against the model's context. */
export function contextFromArgs(args: ParsedArgs, engine: Engine): number {
  const ctx = numberFlag(args, "ctx", engine.config.seqLen);
  if (!Number.isInteger(ctx) || ctx < 1 || ctx > engine.config.seqLen) {
    throw new ConfigError("ctx", `an integer from 1 to the model's context ${engine.config.seqLen}`, ctx);
  }
  return ctx;
}

export function samplerFromArgs(args: ParsedArgs): SamplerConfig {
  const temperature = numberFlag(args, "temperature", 0);
  if (temperature === 0) return { kind: "greedy" };
  return {
    kind: "sample",
    temperature,
    topK: numberFlag(args, "top-k", 0),
    topP: numberFlag(args, "top-p", 0.9),
    seed: numberFlag(args, "seed", 42),
  };
}

export async function generateCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  const kv = parseKvFlag(stringFlag(args, "kv") ?? "fp32");
  const sampler = validateSampler(samplerFromArgs(args));
  const maxTokens = tokenLimitFlag(args, "max-tokens", 256);
  const json = boolFlag(args, "json");
  const engine = await loadEngineFromArgs(args);
  try {
    const ctx = contextFromArgs(args, engine);
    const prompt = engine.tokenizer.encode(stringFlag(args, "prompt") ?? "");
    if (prompt.length > ctx) throw new ContextOverflowError(prompt.length, ctx, "prompt");
    const session = Session.open(engine, kv, ctx);
    const cache = session.cache;
    const stats: { value?: GenerationStats } = {};
    const ids: number[] = [];
    let text = "";
    for await (const token of generateOn(session, prompt, maxTokens, new Sampler(sampler), stats)) {
      if (token.id >= 0) ids.push(token.id);
      text += token.text;
      if (!json) io.out(token.text);
    }
    const s = stats.value!;
    const report = {
      model: engine.modelPath,
      kv: cacheReport(cache, engine.config),
      promptTokens: s.promptTokens,
      generatedTokens: s.generatedTokens,
      stoppedBy: s.stoppedBy,
      prefillTokensPerSecond: s.promptTokens / s.prefillSeconds,
      decodeTokensPerSecond: s.generatedTokens / s.decodeSeconds,
      threads: engine.compute.threads,
    };
    if (json) io.out(JSON.stringify({ text, ids, ...report }) + "\n");
    else {
      io.out("\n");
      io.err(
        `${s.generatedTokens} tokens, decode ${report.decodeTokensPerSecond.toFixed(1)} tok/s, ` +
          `prefill ${report.prefillTokensPerSecond.toFixed(1)} tok/s (${s.promptTokens} prompt tokens)\n` +
          `${describeCacheReport(report.kv)}\n`,
      );
    }
    session.dispose();
  } finally {
    engine.dispose();
  }
}
