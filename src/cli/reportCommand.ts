import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadReportInput } from "../eval/report/loadResults.js";
import { writeReport } from "../eval/report/writeReport.js";
import { FileFormatError, UsageError } from "../util/errors.js";
import { requireString, stringFlag, type FlagTable, type ParsedArgs } from "./args.js";
import type { CliIo } from "./io.js";

export const REPORT_FLAGS: FlagTable = {
  out: { kind: "string", help: "folder for RESULTS.md and figures/ (required)" },
  notes: { kind: "string", help: "a markdown file of findings, placed first in RESULTS.md" },
};

/** `qaq report results.jsonl [more.jsonl...] --out DIR`: markdown summary, Table 1, Pareto fronts, Figure 2a. */
export async function reportCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  if (args.positional.length === 0) throw new UsageError("qaq report: name at least one results file (qaq report results.jsonl --out DIR)");
  const out = requireString("report", args, "out");
  const input = loadReportInput(args.positional.map((f) => resolve(f)));
  const notesPath = stringFlag(args, "notes");
  if (notesPath !== undefined && !existsSync(notesPath)) throw new FileFormatError(notesPath, "notes file not found");
  const notes = notesPath === undefined ? "" : readFileSync(notesPath, "utf8");
  const command = `qaq report ${args.positional.join(" ")} --out ${out}${notesPath === undefined ? "" : ` --notes ${notesPath}`}`;
  const written = writeReport(input, resolve(out), command, notes);
  io.err(
    `qaq report: ${input.lines.length} result lines -> ${written.markdown}, ${written.figures} figures` +
      (written.converter ? ` (+ ${written.pngs} PNG via ${written.converter})` : " (SVG only: no rsvg-convert or convert found)") +
      "\n",
  );
}
