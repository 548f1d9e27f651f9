import { convertGguf, convertLlama2c, type ConversionResult, type ConvertControl } from "../format/convert.js";
import { isGgufFile } from "../platform/node/readGgufHeader.js";
import { CONVERT_RECIPES, type WeightRecipe } from "../format/weightRecipe.js";
import { requireString, stringFlag, type FlagTable, type ParsedArgs } from "./args.js";
import type { CliIo } from "./io.js";
import { checkNotAnInput, checkOutputFile } from "./outputPath.js";
import { ConfigError, UsageError } from "../util/errors.js";
import { withInterrupt } from "./interrupt.js";
import { commandProgress, QUIET_FLAG } from "./progress.js";
import type { ProgressBar } from "../eval/sweep/ProgressBar.js";

export const CONVERT_FLAGS: FlagTable = {
  tokenizer: { kind: "string", help: "the llama2.c tok*.bin of a llama2.c checkpoint (not for a GGUF input)" },
  out: { kind: "string", help: "output .gguf path (required; written atomically)" },
  type: { kind: "string", help: `weight type or mix: ${CONVERT_RECIPES.join(", ")}`, defaultText: "f32" },
  quiet: QUIET_FLAG,
};

/**
 * `qaq convert IN --out OUT.gguf [--type T]`: a llama2.c checkpoint (with --tokenizer) or an F32/F16/BF16 GGUF file
 * to GGUF with its matrices stored as T; the round-trip error of every quantized type is reported on stderr.
 * A bar shows the bytes read, then written (on a terminal); Ctrl-C removes the temporary file, leaves OUT as it
 * was and exits 130.
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
  // one bar while the input is read, a second while the output is written (each made at its first update)
  let readBar: ProgressBar | undefined;
  let writeBar: ProgressBar | undefined;
  try {
    result = await withInterrupt(async (signal) => {
      const control: ConvertControl = {
        onRead: (done, total) => {
          readBar ??= commandProgress(args, "bytes", total);
          readBar?.update(done, `reading ${input}`);
        },
        write: {
          signal,
          onProgress: (done, total) => {
            if (writeBar === undefined) readBar?.finish();
            writeBar ??= commandProgress(args, "bytes", total);
            writeBar?.update(done, `writing ${out}`);
          },
        },
      };
      if (await isGgufFile(input)) {
        if (tokenizer !== undefined) {
          throw new UsageError("qaq convert: a GGUF input carries its own vocabulary; --tokenizer is for llama2.c checkpoints");
        }
        return convertGguf(input, out, recipe, control);
      }
      return convertLlama2c(input, requireString("convert", args, "tokenizer"), out, recipe, control);
    });
  } finally {
    (writeBar ?? readBar)?.finish();
  }
  const counts = new Map<string, number>();
  for (const t of result.tensors) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
  io.err(`wrote ${out}: ${result.tensors.length} tensors (${[...counts].map(([type, n]) => `${n} ${type}`).join(", ")})\n`);
  for (const e of result.errors) {
    const bound = e.type === "q4_k" || e.type === "q5_k" || e.type === "q6_k" ? `, worst error ${e.worstOfBound.toFixed(3)} of its bound (half a step)` : "";
    io.err(`  ${e.type}: ${e.tensors} tensors, ${e.values} values, relative RMS error ${e.relativeRms.toExponential(3)}${bound}\n`);
  }
}
