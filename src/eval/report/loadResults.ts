/**
 * The inputs of a report: result lines from one or more files (shards of one sweep, or several sweeps), merged by
 * key (a later file's line replaces an earlier one's), and each file's run records (<file>.runs.jsonl) if present.
 */
import { existsSync, readFileSync } from "node:fs";
import { FileFormatError } from "../../util/errors.js";
import type { ResultLine } from "../resultLine.js";
import { readResultsFile } from "../sweep/resultsFile.js";

export interface RunRecord {
  readonly command: string;
  readonly version: string;
  readonly started: string;
  readonly finished: string;
  readonly wallSeconds: number;
  readonly planned: number;
  readonly skipped: number;
  readonly written: number;
  readonly failed: number;
  readonly interrupted: boolean;
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly cpus: number;
  readonly cpuModel: string;
}

export interface ReportInput {
  readonly files: readonly string[];
  readonly lines: readonly ResultLine[];
  readonly runs: readonly RunRecord[];
}

export function loadReportInput(files: readonly string[]): ReportInput {
  const byKey = new Map<string, ResultLine>();
  const runs: RunRecord[] = [];
  for (const file of files) {
    if (!existsSync(file)) throw new FileFormatError(file, "results file not found");
    for (const line of readResultsFile(file).lines) byKey.set(line.key, line);
    const runsPath = `${file}.runs.jsonl`;
    if (existsSync(runsPath)) {
      for (const raw of readFileSync(runsPath, "utf8").split("\n")) {
        if (raw.trim() === "") continue;
        try {
          runs.push(JSON.parse(raw) as RunRecord);
        } catch {
          throw new FileFormatError(runsPath, "holds a line that is not JSON");
        }
      }
    }
  }
  if (byKey.size === 0) throw new FileFormatError(files.join(", "), "no result lines to report");
  return { files, lines: [...byKey.values()], runs };
}
