/**
 * Reading task data files: one clear error for a missing file (saying where to get the data and its format), and
 * for a malformed record (naming the file, the line and the field).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FileFormatError } from "../../util/errors.js";
import type { DataSource, TaskDefinition } from "./taskDefinition.js";

/** The shared data folder beside the project (dist/src/eval/tasks/ -> project root -> ../shared/data). */
export const SHARED_DATA_DIR = fileURLToPath(new URL("../../../../../shared/data/", import.meta.url));

/** The data file a task uses when none is given: its copy in `dataDir`, or undefined when no copy ships. */
export function defaultDataPath(task: TaskDefinition, dataDir: string = SHARED_DATA_DIR): string | undefined {
  return task.data.bundledPath === null ? undefined : join(dataDir, task.data.bundledPath);
}

/** The problem text for a task whose data cannot be found. */
export function missingDataProblem(taskName: string, source: DataSource): string {
  return `no data for task "${taskName}" here. Get it from ${source.where}. Format: ${source.format}`;
}

/** The whole file as UTF-8; a missing file names the task's source and format. */
export function readDataText(path: string, taskName: string, source: DataSource): string {
  if (!existsSync(path)) throw new FileFormatError(path, missingDataProblem(taskName, source));
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new FileFormatError(path, `cannot read it (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** One JSON value per non-empty line, each tagged with its 1-based line number for error messages. */
export function parseJsonLines(path: string, text: string): { readonly line: number; readonly value: unknown }[] {
  const records: { line: number; value: unknown }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    try {
      records.push({ line: i + 1, value: JSON.parse(raw) });
    } catch {
      throw new FileFormatError(path, `line ${i + 1} is not JSON (expected one JSON object per line)`);
    }
  }
  if (records.length === 0) throw new FileFormatError(path, "holds no records");
  return records;
}

/** A JSON file holding one array of records (MathQA's upstream form). */
export function parseJsonArray(path: string, text: string): { readonly line: number; readonly value: unknown }[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FileFormatError(path, "is not JSON");
  }
  if (!Array.isArray(value) || value.length === 0) throw new FileFormatError(path, "must hold a non-empty JSON array of records");
  return value.map((record, index) => ({ line: index + 1, value: record }));
}

/** Field access on one record, with errors that name the file, the record and the field. */
export class RecordReader {
  private readonly record: Record<string, unknown>;

  constructor(
    private readonly path: string,
    private readonly where: string,
    value: unknown,
  ) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FileFormatError(path, `${where} is not a JSON object`);
    this.record = value as Record<string, unknown>;
  }

  has(field: string): boolean {
    return Object.hasOwn(this.record, field);
  }

  string(field: string): string {
    const value = this.record[field];
    if (typeof value !== "string") throw this.problem(field, "a string");
    return value;
  }

  integer(field: string): number {
    const raw = this.record[field];
    // upstream files write labels both as numbers and as numeric strings
    const value = typeof raw === "string" && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isInteger(value)) throw this.problem(field, "an integer");
    return value;
  }

  strings(field: string): readonly string[] {
    const value = this.record[field];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw this.problem(field, "an array of strings");
    return value as string[];
  }

  /** A gold index that must select one of `count` choices. */
  goldIndex(field: string, count: number): number {
    const gold = this.integer(field);
    if (gold < 0 || gold >= count) throw this.problem(field, `an index 0..${count - 1}`);
    return gold;
  }

  problem(field: string, expected: string): FileFormatError {
    return new FileFormatError(this.path, `${this.where}: field "${field}" must be ${expected}`);
  }
}
