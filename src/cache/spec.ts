import { ConfigError } from "../util/errors.js";

/**
 * KV-cache configurations: a discriminated union, parsed from the compact command-line form
 * (`fp32`, `fp16`, `policy:key=value,...`) and validated here, before any work starts.
 */
export type KVCacheConfig = { readonly kind: "fp32" } | { readonly kind: "fp16" };

export const CACHE_KINDS = ["fp32", "fp16"] as const;

export function parseKvSpec(spec: string): KVCacheConfig {
  const [kind, params = ""] = splitOnce(spec.trim(), ":");
  switch (kind) {
    case "fp32":
    case "fp16":
      if (params !== "") throw new ConfigError(`kv ${kind}`, "no parameters", params);
      return { kind };
    default:
      throw new ConfigError("kv", `one of ${CACHE_KINDS.join(", ")}`, kind);
  }
}

/** The compact text form of a config (parseKvSpec(formatKvSpec(c)) equals c). */
export function formatKvSpec(config: KVCacheConfig): string {
  return config.kind;
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}
