/**
 * A sweep's grid of cache specs, from a file in one of two forms:
 *   text  one spec per line; `#` starts a comment; blank lines are skipped
 *   JSON  an array of spec strings
 * Every spec is validated (parseKvSpec) before any work starts; an error names the file and line. Specs are kept in
 * their compact form (formatKvSpec), so two spellings of one cache are one entry.
 */
import { readFileSync, existsSync } from "node:fs";
import { formatKvSpec, parseKvSpec } from "../../cache/spec.js";
import { FileFormatError, QaqError } from "../../util/errors.js";
import { pinnedProtocol, type EvalProtocol } from "../protocol/evalProtocol.js";

export interface GridEntry {
  /** compact form */
  readonly spec: string;
  /** a qaq spec that names mode= runs only under that protocol */
  readonly pinned: EvalProtocol | undefined;
}

export function readGrid(path: string): GridEntry[] {
  if (!existsSync(path)) throw new FileFormatError(path, "grid file not found (one cache spec per line, or a JSON array of specs)");
  return parseGrid(path, readFileSync(path, "utf8"));
}

export function parseGrid(path: string, text: string): GridEntry[] {
  const lines = text.trimStart().startsWith("[") ? jsonSpecs(path, text) : textSpecs(text);
  const seen = new Set<string>();
  const entries: GridEntry[] = [];
  for (const { line, spec: raw } of lines) {
    let spec: string;
    try {
      spec = formatKvSpec(parseKvSpec(raw));
    } catch (error) {
      if (error instanceof QaqError) throw new FileFormatError(path, `line ${line} ("${raw}"): ${error.message}`);
      throw error;
    }
    const pinned = pinnedProtocol(raw);
    const id = `${spec}|${pinned ?? ""}`;
    if (seen.has(id)) continue;
    seen.add(id);
    entries.push({ spec, pinned });
  }
  if (entries.length === 0) throw new FileFormatError(path, "holds no cache specs");
  return entries;
}

function textSpecs(text: string): { line: number; spec: string }[] {
  return text
    .split("\n")
    .map((raw, i) => ({ line: i + 1, spec: raw.replace(/#.*/, "").trim() }))
    .filter((l) => l.spec !== "");
}

function jsonSpecs(path: string, text: string): { line: number; spec: string }[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FileFormatError(path, "starts with [ but is not JSON (expected an array of spec strings)");
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new FileFormatError(path, "must be a JSON array of spec strings");
  return (value as string[]).map((spec, i) => ({ line: i + 1, spec }));
}
