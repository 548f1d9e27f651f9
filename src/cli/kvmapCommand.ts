import { writeFile } from "node:fs/promises";
import { parseKvFlag } from "./kvFlag.js";
import { Session } from "../engine/Session.js";
import { generateOn, type GenerationStats } from "../generate/generate.js";
import { Sampler, validateSampler } from "../generate/sampler.js";
import { widthHeatmapSvg } from "../eval/widthHeatmap.js";
import { requireString, stringFlag, tokenLimitFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { GENERATE_FLAGS, contextFromArgs, loadEngineFromArgs, samplerFromArgs } from "./generateCommand.js";
import type { CliIo } from "./io.js";
import { checkOutputFile } from "./outputPath.js";
import { ConfigError, ContextOverflowError } from "../util/errors.js";

export const KVMAP_FLAGS: FlagTable = {
  ...Object.fromEntries(Object.entries(GENERATE_FLAGS).filter(([name]) => name !== "json" && name !== "kv")),
  kv: { kind: "string", help: "a qaq:... cache spec", defaultText: "qaq" },
  out: { kind: "string", help: "output path prefix: writes PREFIX.json and PREFIX.svg (required)" },
};

/** Generates with a QAQ cache, then writes the per-token key and value widths of every layer and head. */
export async function kvmapCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  const prefix = requireString("kvmap", args, "out");
  const config = parseKvFlag(stringFlag(args, "kv") ?? "qaq");
  if (config.kind !== "qaq") throw new ConfigError("kv", "a qaq:... spec (kvmap shows QAQ's per-token widths)", config.kind);
  for (const suffix of [".json", ".svg"]) checkOutputFile("--out", `${prefix}${suffix}`);
  const maxTokens = tokenLimitFlag(args, "max-tokens", 256);
  const sampler = validateSampler(samplerFromArgs(args));
  const engine = await loadEngineFromArgs(args);
  try {
    const ctx = contextFromArgs(args, engine);
    const prompt = engine.tokenizer.encode(stringFlag(args, "prompt") ?? "");
    if (prompt.length > ctx) throw new ContextOverflowError(prompt.length, ctx, "prompt");
    const session = Session.open(engine, config, ctx);
    const cache = session.cache;
    if (cache.widthMap === undefined) throw new ConfigError("kv", "a cache with per-token widths (qaq:...)", cache.spec);
    const stats: { value?: GenerationStats } = {};
    const ids = Array.from(prompt);
    for await (const token of generateOn(session, prompt, maxTokens, new Sampler(sampler), stats)) {
      if (token.id >= 0) ids.push(token.id);
    }
    const map = cache.widthMap();
    // the last sampled token was never run through the model, so the cache holds one token fewer than `ids`
    const report = { model: engine.modelPath, kv: cache.spec, tokens: cache.nextPos, text: engine.tokenizer.decode(ids), widths: map };
    await writeFile(`${prefix}.json`, JSON.stringify(report) + "\n");
    await writeFile(`${prefix}.svg`, widthHeatmapSvg(map, `QAQ widths: ${cache.spec}, ${cache.nextPos} cached tokens`));
    io.err(`wrote ${prefix}.json and ${prefix}.svg (${map.length} layers, ${cache.nextPos} cached tokens)\n`);
    session.dispose();
  } finally {
    engine.dispose();
  }
}
