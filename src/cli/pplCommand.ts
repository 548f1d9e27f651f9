import { readFile } from "node:fs/promises";
import { parseKvFlag } from "./kvFlag.js";
import { describeCacheReport } from "../cache/cacheReport.js";
import { encodeParagraphs, perplexityInterruptible, type PerplexityResult } from "../eval/perplexity.js";
import { boolFlag, numberFlag, requireString, stringFlag, tokenLimitFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { DEFAULT_THREADS_TEXT } from "./defaults.js";
import { loadEngineFromArgs } from "./generateCommand.js";
import type { CliIo } from "./io.js";
import { ConfigError, FileFormatError, InterruptedError } from "../util/errors.js";
import { withInterrupt } from "./interrupt.js";
import { commandProgress, QUIET_FLAG } from "./progress.js";

export const PPL_FLAGS: FlagTable = {
  model: { kind: "string", help: "model file (GGUF or llama2.c .bin)", defaultText: "bundled stories260K" },
  tokenizer: { kind: "string", help: "llama2.c tok*.bin (needed for .bin models)" },
  text: { kind: "string", help: "text file to score (required)" },
  ctx: { kind: "int", help: "window length in tokens", defaultText: "the model's context" },
  "max-tokens": { kind: "int", help: "score at most this many tokens of the file (-1 = all)", defaultText: "all" },
  "bos-per-paragraph": { kind: "bool", help: "split on blank lines, BOS before each paragraph (the golden protocol)" },
  kv: { kind: "string", help: "KV-cache spec", defaultText: "fp32" },
  threads: { kind: "int", help: "threads", defaultText: DEFAULT_THREADS_TEXT },
  json: { kind: "bool", help: "print one JSON object" },
  quiet: QUIET_FLAG,
};

export async function pplCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  const textPath = requireString("ppl", args, "text");
  const kvConfig = parseKvFlag(stringFlag(args, "kv") ?? "fp32");
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
    const bar = commandProgress(args, "tokens", ids.length - 1);
    let result: PerplexityResult;
    let stoppedBy = "SIGINT";
    try {
      result = await withInterrupt(async (signal) => {
        const scored = await perplexityInterruptible(engine, cache, ids, ctx, { signal, onProgress: (n) => bar?.update(n, "scored") });
        if (signal.aborted) stoppedBy = String(signal.reason);
        return scored;
      });
    } finally {
      bar?.finish();
      cache.dispose();
    }
    const seconds = (performance.now() - started) / 1000;
    const { cache: kv, ...scores } = result;
    const report = { ...scores, kv, seconds, model: engine.modelPath, text: textPath };
    const partial = result.partial ? ` (partial: interrupted after ${result.scored} of ${ids.length - 1} tokens)` : "";
    if (boolFlag(args, "json")) io.out(JSON.stringify(report) + "\n");
    else {
      io.out(`ppl ${result.ppl.toFixed(5)} ± ${(result.ppl * result.stderr).toFixed(5)} over ${result.scored} tokens (${seconds.toFixed(1)} s)${partial}\n`);
      io.err(`${describeCacheReport(kv)} (at its fullest window)\n`);
    }
    if (result.partial) throw new InterruptedError(stoppedBy, `the result above is partial: ${result.scored} of ${ids.length - 1} tokens scored`);
  } finally {
    engine.dispose();
  }
}
