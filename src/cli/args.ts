import { UsageError } from "../util/errors.js";

/**
 * Command-line flags: each command declares its flags in a table; anything else is an error. Values are parsed and
 * range-checked here so commands receive typed values.
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
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = table[name];
    if (!spec) throw new UsageError(`qaq ${command}: unknown flag --${name} (see qaq ${command} --help)`);
    if (spec.kind === "bool") {
      if (eq >= 0) throw new UsageError(`qaq ${command}: --${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`qaq ${command}: --${name} needs a value`);
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

export function helpText(command: string, usage: string, summary: string, table: FlagTable): string {
  const lines = [`usage: qaq ${command} ${usage}`, "", summary, "", "flags:"];
  for (const [name, spec] of Object.entries(table)) {
    const value = spec.kind === "bool" ? "" : ` <${spec.kind === "string" ? "text" : spec.kind}>`;
    const def = spec.defaultText ? ` (default ${spec.defaultText})` : "";
    lines.push(`  --${name}${value}`.padEnd(28) + spec.help + def);
  }
  lines.push("  --help".padEnd(28) + "this text");
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
