import { loadModelFile } from "../format/modelFile.js";
import type { GgufValue } from "../format/gguf/ggufValue.js";
import { hasGgufMagic } from "../format/gguf/parseGguf.js";
import { readGgufHeader } from "../platform/node/readGgufHeader.js";
import { GGML_TYPE_NAMES, GGML_TYPES, tensorByteSize, tensorTypeFromGgmlId } from "../format/gguf/ggmlTypes.js";
import { boolFlag, type FlagTable, type ParsedArgs } from "./args.js";
import type { CliIo } from "./io.js";
import { ggufVerdict, type Verdict } from "./modelVerdict.js";
import { UsageError } from "../util/errors.js";
import { open } from "node:fs/promises";
import type { ModelConfig } from "../model/config.js";

export const INSPECT_FLAGS: FlagTable = {
  json: { kind: "bool", help: "print one JSON object" },
};

/** Arrays longer than this print their length and first elements only. */
const ARRAY_PREVIEW = 8;

interface TensorRow {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly number[];
  /** undefined for a type whose block size this engine does not know */
  readonly bytes: number | undefined;
}

/**
 * `qaq inspect FILE`: the metadata and tensor table of any GGUF file, whether or not it can run here (only its header
 * is read for that), then whether it can run and why not (modelVerdict.ts). A llama2.c checkpoint shows its config
 * and tensors.
 */
export async function inspectCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  if (args.positional.length !== 1) throw new UsageError("qaq inspect: give exactly one model file");
  const path = args.positional[0]!;
  const json = boolFlag(args, "json");
  if (!(await startsWithGgufMagic(path)) && !path.toLowerCase().endsWith(".gguf")) {
    const file = await loadModelFile(path);
    const tensors = [...file.tensors.values()].map((t) => ({ name: t.name, type: t.type, shape: t.shape, bytes: t.data.byteLength }));
    print(io, json, { path, format: file.format, config: file.config, metadata: {}, tensors, verdict: { runs: true } });
    return;
  }
  const header = await readGgufHeader(path);
  const metadata = Object.fromEntries([...header.metadata].map(([k, v]) => [k, describeValue(v)]));
  const tensors = header.tensorInfos.map((info): TensorRow => {
    const type = tensorTypeFromGgmlId(info.typeId);
    return {
      name: info.name,
      type: type !== undefined ? GGML_TYPES[type].name : (GGML_TYPE_NAMES[info.typeId] ?? `type ${info.typeId}`),
      shape: info.shape,
      bytes: type !== undefined ? tensorByteSize(type, info.shape) : undefined,
    };
  });
  const verdict = await ggufVerdict(path, header);
  const config = verdict.runs ? verdict.config : undefined;
  print(io, json, { path, format: `gguf v${header.version}`, ...(config && { config }), metadata, tensors, verdict: verdict.runs ? { runs: true } : verdict });
}

interface Report {
  readonly path: string;
  readonly format: string;
  readonly config?: ModelConfig;
  readonly metadata: Record<string, string>;
  readonly tensors: readonly TensorRow[];
  readonly verdict: Verdict;
}

function print(io: CliIo, json: boolean, report: Report): void {
  if (json) {
    io.out(JSON.stringify(report) + "\n");
    return;
  }
  const lines = [`${report.path}: ${report.format}`];
  if (report.config !== undefined) {
    lines.push("", "config:");
    for (const [k, v] of Object.entries(report.config)) if (typeof v !== "object") lines.push(`  ${k} = ${v}`);
    const { name, ropeStyle, qkvBias, qkNorm, ropePositionScale, ropeFreqFactors } = report.config.arch;
    lines.push(
      `  architecture = ${name}: ${ropeStyle} rope${ropePositionScale !== 1 ? ` (positions x ${ropePositionScale})` : ""}` +
        `${ropeFreqFactors ? ", rope_freqs factors" : ""}${qkvBias ? ", q/k/v bias" : ""}${qkNorm ? ", per-head q/k norm" : ""}`,
    );
  }
  if (Object.keys(report.metadata).length > 0) {
    lines.push("", "metadata:");
    for (const [k, v] of Object.entries(report.metadata)) lines.push(`  ${k} = ${v}`);
  }
  lines.push("", `tensors (${report.tensors.length}):`);
  for (const t of report.tensors) {
    lines.push(`  ${t.name.padEnd(32)} ${t.type.padEnd(6)} [${t.shape.join(", ")}]  ${t.bytes === undefined ? "?" : t.bytes} bytes`);
  }
  lines.push("", report.verdict.runs ? "runs here: yes" : `runs here: no: ${report.verdict.reason}`);
  io.out(lines.join("\n") + "\n");
}

async function startsWithGgufMagic(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "r");
    try {
      const head = new Uint8Array(4);
      await handle.read(head, 0, 4, 0);
      return hasGgufMagic(head);
    } finally {
      await handle.close();
    }
  } catch {
    return false; // loadModelFile names the problem
  }
}

function describeValue(value: GgufValue): string {
  if (value.type !== "array") return `${String(value.value)} (${value.type})`;
  const items = Array.from(value.values as ArrayLike<unknown>);
  const head = items.slice(0, ARRAY_PREVIEW).map((x) => (typeof x === "object" ? "[...]" : JSON.stringify(typeof x === "bigint" ? String(x) : x)));
  return `[${head.join(", ")}${items.length > ARRAY_PREVIEW ? ", ..." : ""}] (${items.length} x ${value.elementType})`;
}
