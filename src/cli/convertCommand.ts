import { convertGguf, convertLlama2c, type ConversionResult } from "../format/convert.js";
import { isGgufFile } from "../platform/node/readGgufHeader.js";
import { CONVERT_RECIPES, type WeightRecipe } from "../format/weightRecipe.js";
import { requireString, stringFlag, type FlagTable, type ParsedArgs } from "./args.js";
import type { CliIo } from "./io.js";
import { checkNotAnInput, checkOutputFile } from "./outputPath.js";
import { ConfigError, UsageError } from "../util/errors.js";

export const CONVERT_FLAGS: FlagTable = {
  tokenizer: { kind: "string", help: "the llama2.c tok*.bin of a llama2.c checkpoint (not for a GGUF input)" },
  out: { kind: "string", help: "output .gguf path (required; written atomically)" },
  type: { kind: "string", help: `weight type or mix: ${CONVERT_RECIPES.join(", ")}`, defaultText: "f32" },
};

/**
 * `qaq convert IN --out OUT.gguf [--type T]`: a llama2.c checkpoint (with --tokenizer) or an F32/F16/BF16 GGUF file
 * to GGUF with its matrices stored as T; the round-trip error of every quantized type is reported on stderr.
 */
export async function convertCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  if (args.positional.length !== 1) throw new UsageError("qaq convert: give exactly one input model (IN.bin or IN.gguf)");
  const input = args.positional[0]!;
  const recipe = (stringFlag(args, "type") ?? "f32") as WeightRecipe;
  if (!CONVERT_RECIPES.includes(recipe)) throw new ConfigError("type", CONVERT_RECIPES.join(", "), recipe);
  const out = requireString("convert", args, "out");
  const tokenizer = stringFlag(args, "tokenizer");
  checkOutputFile("--out", out);
  checkNotAnInput("--out", out, tokenizer === undefined ? [input] : [input, tokenizer]);
  let result: ConversionResult;
  if (await isGgufFile(input)) {
    if (stringFlag(args, "tokenizer") !== undefined) {
      throw new UsageError("qaq convert: a GGUF input carries its own vocabulary; --tokenizer is for llama2.c checkpoints");
    }
    result = await convertGguf(input, out, recipe);
  } else {
    result = await convertLlama2c(input, requireString("convert", args, "tokenizer"), out, recipe);
  }
  const counts = new Map<string, number>();
  for (const t of result.tensors) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
  io.err(`wrote ${out}: ${result.tensors.length} tensors (${[...counts].map(([type, n]) => `${n} ${type}`).join(", ")})\n`);
  for (const e of result.errors) {
    const bound = e.type === "q4_k" || e.type === "q5_k" || e.type === "q6_k" ? `, worst error ${e.worstOfBound.toFixed(3)} of its bound (half a step)` : "";
    io.err(`  ${e.type}: ${e.tensors} tensors, ${e.values} values, relative RMS error ${e.relativeRms.toExponential(3)}${bound}\n`);
  }
}
