/**
 * The --kv flag: a cache spec that does not parse is a usage error (exit 2) that names the field, lists what is
 * allowed and, when a known word is close to the one typed, asks "did you mean" (`qaq:ktol=0.1` -> kTol).
 */
import { CACHE_KINDS, parseKvSpec, type KVCacheConfig } from "../cache/spec.js";
import { closestWord } from "../util/closestWord.js";
import { ConfigError, UsageError } from "../util/errors.js";

export function parseKvFlag(text: string): KVCacheConfig {
  try {
    return parseKvSpec(text);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const suggestion = typeof error.got === "string" ? closestWord(error.got, candidatesOf(error)) : undefined;
    const hint = suggestion !== undefined && suggestion !== error.got ? ` (did you mean "${suggestion}"?)` : "";
    throw new UsageError(`--kv ${text}: ${error.message}${hint}`);
  }
}

/** The words an error allows: cache kinds, "a known key (a, b, c)", "one of a, b" or "\"a\" or \"b\"". */
function candidatesOf(error: ConfigError): string[] {
  if (error.field === "kv") return [...CACHE_KINDS];
  const quoted = [...error.allowed.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  if (quoted.length > 0) return quoted;
  const listed = /^(?:a known key \((.*)\)|one of (.*))$/.exec(error.allowed);
  const list = listed?.[1] ?? listed?.[2];
  return list === undefined ? [] : list.split(/,\s*/);
}
