import { readFile } from "node:fs/promises";
import { parseKvSpec } from "../cache/spec.js";
import { describeCacheReport } from "../cache/cacheReport.js";
import { encodeParagraphs, perplexity } from "../eval/perplexity.js";
import { boolFlag, numberFlag, requireString, stringFlag, tokenLimitFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { DEFAULT_THREADS } from "./defaults.js";
import { loadEngineFromArgs } from "./generateCommand.js";
import type { CliIo } from "./io.js";
import { ConfigError, FileFormatError } from "../util/errors.js";

export const PPL_FLAGS: FlagTable = {
  model: { kind: "string", help: "model file (GGUF or llama2.c .bin)", defaultText: "bundled stories260K" },
  tokenizer: { kind: "string", help: "llama2.c tok*.bin (needed for .bin models)" },
  text: { kind: "string", help: "text file to score (required)" },
  ctx: { kind: "int", help: "window length in tokens", defaultText: "the model's context" },
  "max-tokens": { kind: "int", help: "score at most this many tokens of the file (-1 = all)", defaultText: "all" },
  "bos-per-paragraph": { kind: "bool", help: "split on blank lines, BOS before each paragraph (the golden protocol)" },
  kv: { kind: "string", help: "KV-cache spec", defaultText: "fp32" },
  threads: { kind: "int", help: "threads", defaultText: String(DEFAULT_THREADS) },
  json: { kind: "bool", help: "print one JSON object" },
};

export async function pplCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  const textPath = requireString("ppl", args, "text");
  const kvConfig = parseKvSpec(stringFlag(args, "kv") ?? "fp32");
  const maxTokens = Math.min(tokenLimitFlag(args, "max-tokens", -1), Number.MAX_SAFE_INTEGER);
  let text: string;
  try {
    text = await readFile(textPath, "utf8");
  } catch {
    throw new FileFormatError(textPath, "cannot read the text file (missing or unreadable)");
  }
  const engine = await loadEngineFromArgs(args);
  try {
    const ctx = numberFlag(args, "ctx", engine.config.seqLen);
    if (!Number.isInteger(ctx) || ctx < 1 || ctx > engine.config.seqLen) {
      throw new ConfigError("ctx", `an integer from 1 to the model's context ${engine.config.seqLen}`, ctx);
    }
    const ids = boolFlag(args, "bos-per-paragraph")
      ? encodeParagraphs(engine, text, maxTokens)
      : engine.tokenizer.encode(text).subarray(0, maxTokens);
    if (ids.length < 2) throw new FileFormatError(textPath, "fewer than 2 tokens to score");
    const cache = engine.createCache(kvConfig, Math.min(engine.config.seqLen, ctx + 1));
    const started = performance.now();
    const result = perplexity(engine, cache, ids, ctx);
    const seconds = (performance.now() - started) / 1000;
    const { cache: kv, ...scores } = result;
    const report = { ...scores, kv, seconds, model: engine.modelPath, text: textPath };
    cache.dispose();
    if (boolFlag(args, "json")) io.out(JSON.stringify(report) + "\n");
    else {
      io.out(`ppl ${result.ppl.toFixed(5)} ± ${(result.ppl * result.stderr).toFixed(5)} over ${result.scored} tokens (${seconds.toFixed(1)} s)\n`);
      io.err(`${describeCacheReport(kv)} (at its fullest window)\n`);
    }
  } finally {
    engine.dispose();
  }
}
