/**
 * Checks on where a command will write, made before any long work starts: an output path that is a folder, lies
 * in a folder that does not exist or cannot be written, or is one of the command's input files is a usage error
 * (exit 2) naming the flag, instead of an "internal error" after minutes of computing (or an overwritten input).
 */
import { accessSync, constants, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { UsageError } from "../util/errors.js";

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** `path` can be created or replaced as a file: not a folder, its folder exists and is writable. */
export function checkOutputFile(flag: string, path: string): void {
  const target = statOrUndefined(path);
  if (target?.isDirectory()) throw new UsageError(`${flag} ${path} is a folder; give a file path`);
  const folder = dirname(resolve(path));
  const stats = statOrUndefined(folder);
  if (stats === undefined) throw new UsageError(`${flag} ${path}: the folder ${folder} does not exist`);
  if (!stats.isDirectory()) throw new UsageError(`${flag} ${path}: ${folder} is not a folder`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${path}: the folder ${folder} is not writable`);
  }
}

/** `output` is none of `inputs` (the same path, or another name of the same file). */
export function checkNotAnInput(flag: string, output: string, inputs: readonly string[]): void {
  const out = statOrUndefined(output);
  for (const input of inputs) {
    const same = resolve(input) === resolve(output) || (out !== undefined && sameFile(out, statOrUndefined(input)));
    if (same) throw new UsageError(`${flag} ${output} is the input file ${input}; write to another path`);
  }
}

function sameFile(a: Stats, b: Stats | undefined): boolean {
  return b !== undefined && a.dev === b.dev && a.ino === b.ino;
}
