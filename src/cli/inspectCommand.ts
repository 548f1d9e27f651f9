import { loadModelFile } from "../format/modelFile.js";
import type { GgufValue } from "../format/gguf/ggufValue.js";
import { boolFlag, type FlagTable, type ParsedArgs } from "./args.js";
import type { CliIo } from "./io.js";
import { UsageError } from "../util/errors.js";

export const INSPECT_FLAGS: FlagTable = {
  json: { kind: "bool", help: "print one JSON object" },
};

/** Arrays longer than this print their length and first elements only. */
const ARRAY_PREVIEW = 8;

export async function inspectCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  if (args.positional.length !== 1) throw new UsageError("qaq inspect: give exactly one model file");
  const file = await loadModelFile(args.positional[0]!);
  const metadata = Object.fromEntries([...file.metadata].map(([k, v]) => [k, describeValue(v)]));
  const tensors = [...file.tensors.values()].map((t) => ({ name: t.name, type: t.type, shape: t.shape, bytes: t.data.byteLength }));
  if (boolFlag(args, "json")) {
    io.out(JSON.stringify({ path: file.path, format: file.format, config: file.config, metadata, tensors }) + "\n");
    return;
  }
  const lines = [`${file.path}: ${file.format}`, "", "config:"];
  for (const [k, v] of Object.entries(file.config)) lines.push(`  ${k} = ${v}`);
  if (file.metadata.size > 0) {
    lines.push("", "metadata:");
    for (const [k, v] of Object.entries(metadata)) lines.push(`  ${k} = ${v}`);
  }
  lines.push("", `tensors (${tensors.length}):`);
  for (const t of tensors) lines.push(`  ${t.name.padEnd(32)} ${t.type.padEnd(5)} [${t.shape.join(", ")}]  ${t.bytes} bytes`);
  io.out(lines.join("\n") + "\n");
}

function describeValue(value: GgufValue): string {
  if (value.type !== "array") return `${String(value.value)} (${value.type})`;
  const items = Array.from(value.values as ArrayLike<unknown>);
  const head = items.slice(0, ARRAY_PREVIEW).map((x) => (typeof x === "object" ? "[...]" : JSON.stringify(typeof x === "bigint" ? String(x) : x)));
  return `[${head.join(", ")}${items.length > ARRAY_PREVIEW ? ", ..." : ""}] (${items.length} x ${value.elementType})`;
}
