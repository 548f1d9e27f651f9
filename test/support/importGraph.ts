import { builtinModules } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The import specifiers of compiled ES modules (dist/src/**.js), read from their text: static imports and exports
 * with `from`, bare `import "x"`, and dynamic `import("x")` with a literal. tsc has already dropped type-only imports.
 */
export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

const BUILTINS = new Set(builtinModules);

/** True for `node:x` and for the bare names of Node's builtin modules (fs, worker_threads, fs/promises, ...). */
export function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || BUILTINS.has(specifier) || BUILTINS.has(specifier.split("/")[0]!);
}

export interface GraphViolation {
  /** the file, relative to the root the walk started in */
  readonly file: string;
  readonly specifier: string;
  /** how the file was reached from the entry */
  readonly path: readonly string[];
}

/**
 * Walks the import graph from `entries` (absolute paths of .js files), following relative imports and the
 * `aliases` (e.g. "#platform" -> the browser adapter), and returns every Node builtin imported on the way, with the
 * chain of files that leads to it. Package imports (@huggingface/jinja) are not followed: npm packages are not core.
 */
export function nodeImportsReachable(entries: readonly string[], aliases: Readonly<Record<string, string>>, root: string): { violations: GraphViolation[]; visited: string[] } {
  const violations: GraphViolation[] = [];
  const parents = new Map<string, string | null>(entries.map((e) => [e, null]));
  const stack = [...entries];
  const chain = (file: string): string[] => {
    const out: string[] = [];
    for (let f: string | null | undefined = file; f; f = parents.get(f)) out.unshift(relative(root, f));
    return out;
  };
  while (stack.length > 0) {
    const file = stack.pop()!;
    for (const specifier of importSpecifiers(readFileSync(file, "utf8"))) {
      if (isNodeBuiltin(specifier)) {
        violations.push({ file: relative(root, file), specifier, path: chain(file) });
        continue;
      }
      const target = specifier in aliases ? aliases[specifier]! : specifier.startsWith(".") ? resolve(dirname(file), specifier) : undefined;
      if (target === undefined || parents.has(target)) continue;
      parents.set(target, file);
      stack.push(target);
    }
  }
  return { violations, visited: [...parents.keys()].map((f) => relative(root, f)).sort() };
}

export function distPath(root: string, ...parts: string[]): string {
  return join(root, "dist", ...parts);
}
