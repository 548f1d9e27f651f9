/**
 * The sweep's output: JSON lines, appended one at a time and fsynced, so an interrupted sweep loses at most the line
 * being written. On resume the file is read back: a torn last line (no newline: the write was cut) is dropped from
 * the file, every complete line's key counts as done. A malformed line elsewhere is an error, never skipped silently.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { FileFormatError } from "../../util/errors.js";
import type { ResultLine } from "../resultLine.js";

/** Complete lines of a results file, each parsed; `tornBytes` is the length of an unfinished last line. */
export function readResultsFile(path: string): { lines: ResultLine[]; completeBytes: number; tornBytes: number } {
  if (!existsSync(path)) return { lines: [], completeBytes: 0, tornBytes: 0 };
  const bytes = readFileSync(path);
  const end = bytes.lastIndexOf(0x0a) + 1;
  const text = bytes.subarray(0, end).toString("utf8");
  const lines: ResultLine[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new FileFormatError(path, `line ${i + 1} is not JSON (a results file holds one JSON object per line)`);
    }
    if (typeof value !== "object" || value === null || typeof (value as { key?: unknown }).key !== "string") {
      throw new FileFormatError(path, `line ${i + 1} is not a result line (no "key")`);
    }
    lines.push(value as ResultLine);
  });
  return { lines, completeBytes: end, tornBytes: bytes.length - end };
}

/** Keys already in `path` (after cutting a torn last line off the file). */
export function finishedKeys(path: string): Set<string> {
  const { lines, completeBytes, tornBytes } = readResultsFile(path);
  if (tornBytes > 0) truncateSync(path, completeBytes);
  return new Set(lines.map((l) => l.key));
}

export class ResultsAppender {
  private readonly fd: number;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, "a");
    } catch (error) {
      throw new FileFormatError(path, `cannot open for appending (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  /** One line, written with one write call and flushed to the disk before returning. */
  append(line: ResultLine): void {
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
