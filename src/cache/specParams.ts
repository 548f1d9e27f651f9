import { ConfigError } from "../util/errors.js";

/**
 * The `key=value,...` part of a cache spec (after `policy:`), read field by field by the policy's parser. Every
 * mistake is a ConfigError naming `policy.key` and what is allowed: an empty item, a key without a value, a key
 * given twice, a malformed or out-of-range number, a word outside its choices, and (in done()) any key the parser
 * never asked for.
 */
const INTEGER = /^[0-9]+$/;
const DECIMAL = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

export class SpecParams {
  private readonly asked = new Set<string>();

  constructor(
    private readonly policy: string,
    private readonly values: ReadonlyMap<string, string>,
    private readonly bareWords: readonly string[],
  ) {}

  has(key: string): boolean {
    this.asked.add(key);
    return this.values.has(key);
  }

  /** The raw value of `key` (undefined when absent), for a policy that parses its own value forms (qaq sizes). */
  text(key: string): string | undefined {
    return this.raw(key, false);
  }

  /** An integer in [min, max]; required when `fallback` is undefined. */
  integer(key: string, fallback: number | undefined, min: number, max: number): number {
    const raw = this.raw(key, fallback === undefined);
    if (raw === undefined) return fallback!;
    const value = INTEGER.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) throw new ConfigError(this.field(key), `an integer from ${min} to ${max}`, raw);
    return value;
  }

  /** A decimal number in [0, 1]. */
  fraction(key: string, fallback: number): number {
    const raw = this.raw(key, false);
    if (raw === undefined) return fallback;
    const value = DECIMAL.test(raw) ? Number(raw) : NaN;
    if (!(value >= 0 && value <= 1)) throw new ConfigError(this.field(key), "a number from 0 to 1 (0.01 = 1%)", raw);
    return value;
  }

  /** A uniform code width: 0..8 packed, or 16 (fp16). Required. */
  width(key: string): number {
    const raw = this.raw(key, true)!;
    const value = INTEGER.test(raw) ? Number(raw) : NaN;
    if (!((value >= 0 && value <= 8) || value === 16)) throw new ConfigError(this.field(key), "an integer 0..8, or 16 (fp16 storage)", raw);
    return value;
  }

  /** One of `choices`; required when `fallback` is undefined. */
  choice<T extends string>(key: string, choices: readonly T[], fallback: T | undefined): T {
    const raw = this.raw(key, fallback === undefined);
    if (raw === undefined) return fallback!;
    if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(this.field(key), `one of ${choices.join(", ")}`, raw);
    return raw as T;
  }

  /** The spec's single bare word (as in `blockq:q8_0`), one of `choices`; nothing else may be given. */
  bare<T extends string>(choices: readonly T[]): T {
    const word = this.bareWords[0];
    if (this.bareWords.length !== 1 || this.values.size > 0 || !(choices as readonly string[]).includes(word!)) {
      const given = [...this.bareWords, ...[...this.values].map(([k, v]) => `${k}=${v}`)].join(",");
      throw new ConfigError(this.policy, `${this.policy}:${choices.join(` or ${this.policy}:`)}`, given);
    }
    return word as T;
  }

  /** Rejects every key the parser did not ask for, and bare words. */
  done(): void {
    const known = [...this.asked].join(", ") || "no parameters";
    for (const key of this.values.keys()) if (!this.asked.has(key)) throw new ConfigError(this.field(key), `a known key (${known})`, key);
    if (this.bareWords.length > 0) throw new ConfigError(this.policy, `key=value parameters (${known})`, this.bareWords[0]);
  }

  private raw(key: string, required: boolean): string | undefined {
    this.asked.add(key);
    const raw = this.values.get(key);
    if (raw === undefined && required) throw new ConfigError(this.field(key), "a value (this key is required)", undefined);
    return raw;
  }

  private field(key: string): string {
    return `${this.policy}.${key}`;
  }
}

/** Splits `key=value,key=value,word` (undefined or empty: no parameters). */
export function parseSpecParams(policy: string, text: string | undefined): SpecParams {
  const values = new Map<string, string>();
  const bareWords: string[] = [];
  if (text !== undefined && text.trim() !== "") {
    for (const item of text.split(",")) {
      const entry = item.trim();
      if (entry === "") throw new ConfigError(policy, "comma-separated key=value items, none empty", text);
      const eq = entry.indexOf("=");
      if (eq < 0) {
        bareWords.push(entry);
        continue;
      }
      const key = entry.slice(0, eq).trim();
      const value = entry.slice(eq + 1).trim();
      if (key === "" || value === "") throw new ConfigError(`${policy}.${key}`, "key=value with both parts", entry);
      if (values.has(key)) throw new ConfigError(`${policy}.${key}`, "each key at most once", entry);
      values.set(key, value);
    }
  }
  return new SpecParams(policy, values, bareWords);
}
