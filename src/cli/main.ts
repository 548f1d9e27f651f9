#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { checkPositionals, parseArgs, helpText, type FlagTable, type ParsedArgs } from "./args.js";
import { processIo, type CliIo } from "./io.js";
import { GENERATE_FLAGS, generateCommand } from "./generateCommand.js";
import { PPL_FLAGS, pplCommand } from "./pplCommand.js";
import { INSPECT_FLAGS, inspectCommand } from "./inspectCommand.js";
import { CONVERT_FLAGS, convertCommand } from "./convertCommand.js";
import { EVAL_FLAGS, evalCommand } from "./evalCommand.js";
import { SWEEP_FLAGS, sweepCommand } from "./sweepCommand.js";
import { REPORT_FLAGS, reportCommand } from "./reportCommand.js";
import { KVMAP_FLAGS, kvmapCommand } from "./kvmapCommand.js";
import { CHAT_FLAGS, CHAT_NOTES, CHAT_SUMMARY, CHAT_USAGE, chatCommand } from "./chatCommand.js";
import { MEMORY_NOTE } from "./memoryNote.js";
import { SERVE_FLAGS, SERVE_NOTES, SERVE_SUMMARY, SERVE_USAGE, serveCommand } from "./serveCommand.js";
import { InterruptedError, QaqError, UsageError } from "../util/errors.js";

/** The `qaq` command table: one entry per command, each implemented in its own file. */
interface Command {
  readonly usage: string;
  readonly summary: string;
  readonly flags: FlagTable;
  /** positional arguments the command takes at most (more are an error) */
  readonly positionals: number;
  readonly run: (args: ParsedArgs, io: CliIo) => Promise<void>;
  /** printed after the flags by --help */
  readonly notes?: string;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  generate: { usage: "[flags]", summary: "Generate text (stdout) from a prompt; speed and cache bytes on stderr.", flags: GENERATE_FLAGS, positionals: 0, run: generateCommand, notes: MEMORY_NOTE },
  chat: { usage: CHAT_USAGE, summary: CHAT_SUMMARY, flags: CHAT_FLAGS, positionals: 0, run: chatCommand, notes: CHAT_NOTES },
  serve: { usage: SERVE_USAGE, summary: SERVE_SUMMARY, flags: SERVE_FLAGS, positionals: 0, run: serveCommand, notes: SERVE_NOTES },
  ppl: { usage: "--text FILE [flags]", summary: "Perplexity of a text file under a KV-cache setting.", flags: PPL_FLAGS, positionals: 0, run: pplCommand, notes: MEMORY_NOTE },
  inspect: { usage: "FILE", summary: "Metadata, tensor names, types and shapes of a model file.", flags: INSPECT_FLAGS, positionals: 1, run: inspectCommand },
  kvmap: { usage: "--out PREFIX [--kv qaq:...] [generate flags]", summary: "Generate with QAQ, then write per-token K/V widths (JSON + SVG heatmap).", flags: KVMAP_FLAGS, positionals: 0, run: kvmapCommand },
  convert: { usage: "IN.bin --tokenizer TOK.bin --out OUT.gguf [--type f32|f16|q8_0|q4_0]", summary: "Convert a llama2.c checkpoint to GGUF.", flags: CONVERT_FLAGS, positionals: 1, run: convertCommand },
  eval: { usage: "--task T [--data FILE] --kv SPEC [--protocol prompt|stream] [flags]", summary: "Score one KV-cache spec on one task against the fp32 cache.", flags: EVAL_FLAGS, positionals: 0, run: evalCommand, notes: MEMORY_NOTE },
  sweep: { usage: "--tasks T1,T2 --grid FILE --out results.jsonl [--shard i/n] [--resume]", summary: "Run a grid of KV-cache specs over tasks and both protocols (resumable).", flags: SWEEP_FLAGS, positionals: 0, run: sweepCommand },
  report: { usage: "RESULTS.jsonl... --out DIR", summary: "Markdown summary, Table 1 and figures (SVG) from sweep results.", flags: REPORT_FLAGS, positionals: Infinity, run: reportCommand, notes: MEMORY_NOTE },
};

function usage(): string {
  const lines = ["usage: qaq <command> [flags]   (qaq <command> --help for its flags)", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  return lines.join("\n");
}

/** Runs one command line; returns the exit code. Errors become one line on stderr, never a stack trace. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      io.out(usage() + "\n");
      return name === undefined ? 2 : 0;
    }
    const command = COMMANDS[name];
    if (!command) {
      const hint = name.startsWith("-") ? " (the command comes first: qaq generate -m model.gguf -p \"...\")" : "";
      throw new UsageError(`unknown command "${name}"${hint}\n${usage()}`);
    }
    const args = parseArgs(name, rest, command.flags);
    if (args.help) {
      io.out(helpText(name, command.usage, command.summary, command.flags) + (command.notes ? `\n\n${command.notes}` : "") + "\n");
      return 0;
    }
    checkPositionals(name, args, command.positionals);
    await command.run(args, io);
    return 0;
  } catch (error) {
    if (error instanceof QaqError) {
      io.err(`qaq: ${error.message}\n`);
      if (error instanceof InterruptedError) return error.exitCode;
      return error instanceof UsageError ? 2 : 1;
    }
    const system = describeSystemError(error);
    if (system !== undefined) {
      // a file-system refusal (no space, permission, a path that vanished) is about the user's files, not a bug
      io.err(`qaq: ${system}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`qaq: internal error: ${message}\n`);
    if (process.env["QAQ_DEBUG"]) io.err(String((error as Error).stack) + "\n");
    return 70;
  }
}

/** "path: reason" for Node's file-system errors (they carry a `code` such as ENOSPC and a `syscall`). */
function describeSystemError(error: unknown): string | undefined {
  const e = error as { code?: unknown; syscall?: unknown; path?: unknown; message?: unknown } | null;
  if (typeof e?.code !== "string" || typeof e.syscall !== "string" || !/^E[A-Z]+$/.test(e.code)) return undefined;
  return typeof e.path === "string" ? `${e.path}: ${String(e.message)}` : String(e.message);
}

/** Runs the command line of this process and sets its exit code (the `qaq` bin, and `node dist/src/cli/main.js`). */
export async function runProcess(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), processIo);
}

/**
 * Whether this file is the process's entry point. npm starts bins through a symlink (node_modules/.bin/qaq, a global
 * bin folder, npx's cache), so argv[1] is compared after resolving links, as Node resolved them for import.meta.url.
 */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) await runProcess();
