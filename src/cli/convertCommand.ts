import { convertLlama2cToGguf } from "../format/convert.js";
import type { TensorType } from "../format/tensor.js";
import { requireString, stringFlag, type FlagTable, type ParsedArgs } from "./args.js";
import type { CliIo } from "./io.js";
import { ConfigError, UsageError } from "../util/errors.js";

export const CONVERT_FLAGS: FlagTable = {
  tokenizer: { kind: "string", help: "the llama2.c tok*.bin of the model (required)" },
  out: { kind: "string", help: "output .gguf path (required; written atomically)" },
  type: { kind: "string", help: "weight type: f32, f16, q8_0 or q4_0", defaultText: "f32" },
};

const TYPES: readonly TensorType[] = ["f32", "f16", "q8_0", "q4_0"];

export async function convertCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  if (args.positional.length !== 1) throw new UsageError("qaq convert: give exactly one input checkpoint (IN.bin)");
  const type = (stringFlag(args, "type") ?? "f32") as TensorType;
  if (!TYPES.includes(type)) throw new ConfigError("type", TYPES.join(", "), type);
  const out = requireString("convert", args, "out");
  const tensors = await convertLlama2cToGguf(args.positional[0]!, requireString("convert", args, "tokenizer"), out, type);
  io.err(`wrote ${out}: ${tensors.length} tensors (${type} matrices, f32 norms)\n`);
}
