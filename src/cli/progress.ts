/**
 * Progress bars for long commands (loading a model, ppl, eval, convert): on stderr, only when stderr is a terminal
 * and --quiet was not given, so logs and pipes stay clean. QAQ_PROGRESS=tty forces the terminal form (tests).
 */
import { ProgressBar } from "../eval/sweep/ProgressBar.js";
import { boolFlag, type FlagSpec, type ParsedArgs } from "./args.js";

export const QUIET_FLAG: FlagSpec = { kind: "bool", help: "no progress bar on stderr (it only appears on a terminal anyway)" };

/** A bar counting `unit` up to `total`, or undefined when progress is not shown. */
export function commandProgress(args: ParsedArgs, unit: string, total: number): ProgressBar | undefined {
  const terminal = process.stderr.isTTY === true || process.env["QAQ_PROGRESS"] === "tty";
  if (!terminal || boolFlag(args, "quiet")) return undefined;
  return new ProgressBar((text) => void process.stderr.write(text), true, 1, total, unit);
}
