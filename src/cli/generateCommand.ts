import { Engine } from "../engine/Engine.js";
import { generate, type GenerationStats } from "../generate/generate.js";
import type { SamplerConfig } from "../generate/sampler.js";
import { parseKvSpec } from "../cache/spec.js";
import { cacheReport } from "../cache/cacheReport.js";
import { boolFlag, numberFlag, stringFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { DEFAULT_MODEL, DEFAULT_THREADS, DEFAULT_TOKENIZER } from "./defaults.js";
import type { CliIo } from "./io.js";

export const GENERATE_FLAGS: FlagTable = {
  model: { kind: "string", help: "model file (GGUF or llama2.c .bin)", defaultText: "bundled stories260K" },
  tokenizer: { kind: "string", help: "llama2.c tok*.bin (needed for .bin models)" },
  prompt: { kind: "string", help: "text to continue", defaultText: '"" (start from BOS)' },
  "max-tokens": { kind: "int", help: "tokens to generate at most", defaultText: "256" },
  temperature: { kind: "number", help: "0 = greedy; > 0 samples", defaultText: "0" },
  "top-k": { kind: "int", help: "keep the k most likely tokens (0 = all)", defaultText: "0" },
  "top-p": { kind: "number", help: "nucleus: keep the smallest set reaching p", defaultText: "0.9" },
  seed: { kind: "int", help: "random seed for sampling", defaultText: "42" },
  threads: { kind: "int", help: "threads (main + workers)", defaultText: String(DEFAULT_THREADS) },
  kv: { kind: "string", help: "KV-cache spec (fp32, fp16, ...; see README)", defaultText: "fp32" },
  json: { kind: "bool", help: "print one JSON object (text, ids, speed, cache bytes) instead of streaming" },
};

/** Loads the model named by --model/--tokenizer, or the bundled default. */
export async function loadEngineFromArgs(args: ParsedArgs): Promise<Engine> {
  const model = stringFlag(args, "model");
  const tokenizer = stringFlag(args, "tokenizer") ?? (model === undefined ? DEFAULT_TOKENIZER : undefined);
  return Engine.load(model ?? DEFAULT_MODEL, tokenizer, numberFlag(args, "threads", DEFAULT_THREADS));
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
  const kv = parseKvSpec(stringFlag(args, "kv") ?? "fp32");
  const sampler = samplerFromArgs(args);
  const maxTokens = numberFlag(args, "max-tokens", 256);
  const json = boolFlag(args, "json");
  const engine = await loadEngineFromArgs(args);
  try {
    const prompt = engine.tokenizer.encode(stringFlag(args, "prompt") ?? "", true);
    const cache = engine.createCache(kv);
    const stats: { value?: GenerationStats } = {};
    const ids: number[] = [];
    let text = "";
    for await (const token of generate(engine, cache, prompt, maxTokens, sampler, stats)) {
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
          `prefill ${report.prefillTokensPerSecond.toFixed(1)} tok/s (${s.promptTokens} prompt tokens), ` +
          `KV cache ${cache.spec}: ${report.kv.hotBytes} bytes (${report.kv.bitsPerValue.toFixed(2)} bits/value)\n`,
      );
    }
    cache.dispose();
  } finally {
    engine.dispose();
  }
}
