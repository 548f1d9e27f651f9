import { ConfigError, UsageError } from "../util/errors.js";
import { LLAMA_CPP_ALIASES, LLAMA_CPP_REFUSALS } from "./llamaCppSpellings.js";

/**
 * Command-line flags: each command declares its flags in a table; anything else is an error. Values are parsed and
 * range-checked here so commands receive typed values. The spellings llama.cpp users type (`-m`, `-p`, `-n`, ...) map
 * to the command's own flag when it has one, or fail with a hint (llamaCppSpellings.ts).
 */
export type FlagKind = "string" | "int" | "number" | "bool";

export interface FlagSpec {
  readonly kind: FlagKind;
  readonly help: string;
  /** shown in --help; the default itself is applied by the command */
  readonly defaultText?: string;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string | number | boolean>;
  readonly positional: readonly string[];
  readonly help: boolean;
}

/** Which flag an argument names: its own spelling, or the flag a llama.cpp spelling stands for; undefined if neither. */
function resolveFlag(command: string, spelled: string, table: FlagTable): string {
  const bare = spelled.replace(/^--?/, "");
  if (spelled.startsWith("--") && table[bare]) return bare;
  const alias = LLAMA_CPP_ALIASES[spelled];
  if (alias !== undefined && table[alias]) return alias;
  const refusal = LLAMA_CPP_REFUSALS[spelled];
  if (refusal !== undefined) throw new UsageError(`qaq ${command}: ${spelled} is not supported: ${refusal}`);
  const hint = alias !== undefined ? ` (llama.cpp's ${spelled} is --${alias}, which qaq ${command} does not take)` : "";
  throw new UsageError(`qaq ${command}: unknown flag ${spelled}${hint} (see qaq ${command} --help)`);
}

/** A single-dash word that is not a negative number is a flag (`-m`), never a positional argument. */
function looksLikeFlag(arg: string): boolean {
  return arg.startsWith("-") && arg !== "-" && !/^-\d/.test(arg);
}

export function parseArgs(command: string, argv: readonly string[], table: FlagTable): ParsedArgs {
  const flags = new Map<string, string | number | boolean>();
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!looksLikeFlag(arg)) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const spelled = eq < 0 ? arg : arg.slice(0, eq);
    const name = resolveFlag(command, spelled, table);
    const spec = table[name]!;
    if (spec.kind === "bool") {
      if (eq >= 0) throw new UsageError(`qaq ${command}: ${spelled} takes no value`);
      flags.set(name, true);
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`qaq ${command}: ${spelled} needs a value`);
    flags.set(name, parseValue(command, name, spec.kind, raw));
  }
  return { flags, positional, help };
}

function parseValue(command: string, name: string, kind: FlagKind, raw: string): string | number {
  if (kind === "string") return raw;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value)) throw new UsageError(`qaq ${command}: --${name} needs a number, got "${raw}"`);
  if (kind === "int" && !Number.isInteger(value)) throw new UsageError(`qaq ${command}: --${name} needs an integer, got "${raw}"`);
  return value;
}

/** Refuses positional arguments beyond `max` (a command taking none gets every stray word reported). */
export function checkPositionals(command: string, args: ParsedArgs, max: number): void {
  if (args.positional.length <= max) return;
  const stray = args.positional.slice(max).map((p) => JSON.stringify(p)).join(", ");
  const quoteHint = max === 0 ? " (quote a prompt that has spaces: --prompt \"two words\")" : "";
  throw new UsageError(`qaq ${command}: unexpected argument${args.positional.length - max > 1 ? "s" : ""} ${stray}${quoteHint}`);
}

export function helpText(command: string, usage: string, summary: string, table: FlagTable): string {
  const lines = [`usage: qaq ${command} ${usage}`, "", summary, "", "flags:"];
  const aliasesOf = (name: string): string[] =>
    Object.entries(LLAMA_CPP_ALIASES)
      .filter(([spelling, target]) => target === name && spelling !== `--${name}`)
      .map(([spelling]) => spelling);
  for (const [name, spec] of Object.entries(table)) {
    const value = spec.kind === "bool" ? "" : ` <${spec.kind === "string" ? "text" : spec.kind}>`;
    const def = spec.defaultText ? ` (default ${spec.defaultText})` : "";
    const aliases = aliasesOf(name);
    const also = aliases.length > 0 ? ` [also ${aliases.join(", ")}]` : "";
    lines.push(`  --${name}${value} `.padEnd(28) + spec.help + def + also);
  }
  lines.push("  --help, -h".padEnd(28) + "this text");
  return lines.join("\n");
}

/** Typed getters: a missing flag gives the fallback, or a UsageError when the flag is required (fallback undefined). */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name) as string | undefined;
}
export function numberFlag(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.flags.get(name);
  return v === undefined ? fallback : (v as number);
}
export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}
export function requireString(command: string, args: ParsedArgs, name: string): string {
  const v = stringFlag(args, name);
  if (v === undefined) throw new UsageError(`qaq ${command}: --${name} is required`);
  return v;
}

/**
 * A token count where -1 means "no limit" (llama.cpp's `-n -1`: until end of text or the context is full): returns
 * Infinity for -1, the count for an integer >= 0, and a ConfigError for anything else.
 */
export function tokenLimitFlag(args: ParsedArgs, name: string, fallback: number): number {
  const value = numberFlag(args, name, fallback);
  if (value === -1) return Infinity;
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(name, "an integer >= 0, or -1 for no limit", value);
  return value;
}
