/**
 * The `qaq` cache configuration and its compact text form (the part after `qaq:` in `--kv`):
 *
 *   kTol=0.002,vTol=0.05,min=1,max=8,window=5,outliers=0.01,group=auto,sinks=0,backing=memory,mode=stream,
 *   variant=paper,quantile=0.9,rotate=none,keys=token    plus at most one of  budget=32MB | ratio=8
 *
 * Every key is optional (defaults below); unknown, repeated or out-of-range keys fail with a ConfigError naming the
 * key (`qaq.<key>`; splitting and unknown keys are spec.ts's SpecParams). Sizes: a plain number is bytes;
 * KB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024.
 * mode=prompt quantizes the prompt once and never re-quantizes, so it has no backing tier (backing=none, the only
 * value accepted there); mode=stream defaults to backing=memory. rotate=hadamard (keys and values rotated per KV head
 * before quantization, RotatedCache.ts) makes outliers default to 0: the rotation spreads the outlier channels.
 */
import { ConfigError } from "../../util/errors.js";
import { MAX_PACKED_BITS } from "./bitFormulas.js";
import { MAX_WINDOW } from "./AttentionWindow.js";
import type { MemoryBudget } from "./budget.js";
import { parseSpecParams, type SpecParams } from "../specParams.js";
import type { Rotation } from "../rotation.js";
import type { KeyScaling } from "../keyChannels.js";

/**
 * Groups per (token, KV head) or per (token, layer) over all KV heads; auto (the default) picks per layer for a GQA
 * model (several query heads share each KV head, and there are several KV heads) and per head otherwise: on student64
 * per layer is as good in quality at the same measured bytes and reaches smaller budgets (docs/RESULTS.md).
 */
export type QaqGroup = "head" | "layer" | "auto";
export type QaqBacking = "memory" | "file" | "none";
export type QaqMode = "prompt" | "stream";
export type QaqVariant = "paper" | "code";

export interface QaqConfig {
  readonly kind: "qaq";
  /** ε_K: bound on the std of each attention probability (budget mode: the base ε_K0) */
  readonly keyTolerance: number;
  /** ε_V: bound on the std of each attention output (budget mode: the base ε_V0) */
  readonly valueTolerance: number;
  readonly minBits: number;
  readonly maxBits: number;
  /** n: attention observations kept per token */
  readonly window: number;
  /** α: share of each group kept exactly (both tails together) */
  readonly outlierRatio: number;
  readonly group: QaqGroup;
  readonly sinkTokens: number;
  readonly backing: QaqBacking;
  readonly mode: QaqMode;
  readonly variant: QaqVariant;
  /** p of the ‖q‖² upper quantile */
  readonly queryQuantile: number;
  /** null: fixed tolerances */
  readonly budget: MemoryBudget | null;
  readonly rotate: Rotation;
  /** keys=channel: keys smoothed per channel before quantization (ChannelSmoothedCache) */
  readonly keys: KeyScaling;
}

export const QAQ_DEFAULTS: Omit<QaqConfig, "backing"> = {
  kind: "qaq",
  keyTolerance: 0.002,
  valueTolerance: 0.05,
  minBits: 1,
  maxBits: 8,
  window: 5,
  outlierRatio: 0.01,
  group: "auto",
  sinkTokens: 0,
  mode: "stream",
  variant: "paper",
  queryQuantile: 0.9,
  budget: null,
  rotate: "none",
  keys: "token",
};

/** With a rotation the outlier channels are spread out, so no outliers are kept unless asked for. */
export function defaultOutlierRatio(rotate: Rotation): number {
  return rotate === "none" ? QAQ_DEFAULTS.outlierRatio : 0;
}

type QaqKey =
  | "kTol" | "vTol" | "min" | "max" | "window" | "outliers" | "group" | "sinks" | "backing" | "mode" | "variant"
  | "quantile" | "budget" | "ratio" | "rotate" | "keys";

const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30,
};
const MAX_SINKS = 1 << 20;

/** Parses the parameters of a `qaq:` spec ("" for all defaults). */
export function parseQaqParams(params: string): QaqConfig {
  return parseQaqSpec(parseSpecParams("qaq", params));
}

/** The `qaq` parser of spec.ts: reads every key from the split parameters, then rejects unknown ones. */
export function parseQaqSpec(p: SpecParams): QaqConfig {
  const get = (key: QaqKey): string | undefined => p.text(key);
  const mode = choice("mode", get("mode"), ["prompt", "stream"], QAQ_DEFAULTS.mode);
  const maxBits = integer("max", get("max"), 1, MAX_PACKED_BITS, QAQ_DEFAULTS.maxBits);
  const backingChoices: readonly QaqBacking[] = mode === "prompt" ? ["none"] : ["memory", "file", "none"];
  const rotate = choice("rotate", get("rotate"), ["none", "hadamard"] as const, QAQ_DEFAULTS.rotate);
  const config: QaqConfig = {
    kind: "qaq",
    keyTolerance: positive("kTol", get("kTol"), QAQ_DEFAULTS.keyTolerance),
    valueTolerance: positive("vTol", get("vTol"), QAQ_DEFAULTS.valueTolerance),
    minBits: integer("min", get("min"), 0, maxBits, QAQ_DEFAULTS.minBits),
    maxBits,
    window: integer("window", get("window"), 1, MAX_WINDOW, QAQ_DEFAULTS.window),
    outlierRatio: numberWhere("outliers", get("outliers"), defaultOutlierRatio(rotate), "a number in [0, 0.5]", (v) => v >= 0 && v <= 0.5),
    group: choice("group", get("group"), ["head", "layer", "auto"], QAQ_DEFAULTS.group),
    sinkTokens: integer("sinks", get("sinks"), 0, MAX_SINKS, QAQ_DEFAULTS.sinkTokens),
    backing: choice("backing", get("backing"), backingChoices, defaultBacking(mode)),
    mode,
    variant: choice("variant", get("variant"), ["paper", "code"], QAQ_DEFAULTS.variant),
    queryQuantile: numberWhere("quantile", get("quantile"), QAQ_DEFAULTS.queryQuantile, "a number in (0, 1]", (v) => v > 0 && v <= 1),
    budget: parseBudget(get("budget"), get("ratio")),
    rotate,
    keys: choice("keys", get("keys"), ["token", "channel"] as const, QAQ_DEFAULTS.keys),
  };
  p.done();
  return config;
}

/** The compact form with defaults left out (parseQaqParams(formatQaqParams(c)) equals c). */
export function formatQaqParams(config: QaqConfig): string {
  const d = QAQ_DEFAULTS;
  const parts = [
    config.keyTolerance !== d.keyTolerance ? `kTol=${config.keyTolerance}` : "",
    config.valueTolerance !== d.valueTolerance ? `vTol=${config.valueTolerance}` : "",
    config.minBits !== d.minBits ? `min=${config.minBits}` : "",
    config.maxBits !== d.maxBits ? `max=${config.maxBits}` : "",
    config.window !== d.window ? `window=${config.window}` : "",
    config.outlierRatio !== defaultOutlierRatio(config.rotate) ? `outliers=${config.outlierRatio}` : "",
    config.group !== d.group ? `group=${config.group}` : "",
    config.sinkTokens !== d.sinkTokens ? `sinks=${config.sinkTokens}` : "",
    config.mode !== d.mode ? `mode=${config.mode}` : "",
    config.backing !== defaultBacking(config.mode) ? `backing=${config.backing}` : "",
    config.variant !== d.variant ? `variant=${config.variant}` : "",
    config.queryQuantile !== d.queryQuantile ? `quantile=${config.queryQuantile}` : "",
    config.budget?.kind === "bytes" ? `budget=${config.budget.bytes}` : "",
    config.budget?.kind === "ratio" ? `ratio=${config.budget.ratio}` : "",
    config.rotate !== d.rotate ? `rotate=${config.rotate}` : "",
    config.keys !== d.keys ? `keys=${config.keys}` : "",
  ];
  return parts.filter((part) => part !== "").join(",");
}

function defaultBacking(mode: QaqMode): QaqBacking {
  return mode === "prompt" ? "none" : "memory";
}

function parseBudget(budget: string | undefined, ratio: string | undefined): MemoryBudget | null {
  if (budget !== undefined && ratio !== undefined) throw new ConfigError("qaq.budget", "either budget= or ratio=, not both", `budget=${budget},ratio=${ratio}`);
  if (budget !== undefined) return { kind: "bytes", bytes: parseByteSize(budget) };
  if (ratio !== undefined) {
    return { kind: "ratio", ratio: numberWhere("ratio", ratio, 1, "a finite number ≥ 1 (compression vs fp16)", (v) => v >= 1 && v < Infinity) };
  }
  return null;
}

/** A byte size: a number of bytes or with KB, MB, GB (powers of 1000), KiB, MiB, GiB; `field` names it in errors. */
export function parseByteSize(text: string, field = "qaq.budget"): number {
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text);
  const unit = match ? SIZE_UNITS[match[2]!] : undefined;
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!(bytes >= 1) || !Number.isSafeInteger(bytes)) {
    throw new ConfigError(field, "a size ≥ 1 byte: a number of bytes or with KB, MB, GB, KiB, MiB, GiB", text);
  }
  return bytes;
}

function positive(key: QaqKey, text: string | undefined, fallback: number): number {
  return numberWhere(key, text, fallback, "a finite number > 0", (value) => value > 0 && value < Infinity);
}

function integer(key: QaqKey, text: string | undefined, min: number, max: number, fallback: number): number {
  if (text !== undefined && !/^\d+$/.test(text)) throw new ConfigError(`qaq.${key}`, `an integer ${min}..${max}`, text);
  return numberWhere(key, text, fallback, `an integer ${min}..${max}`, (value) => value >= min && value <= max);
}

function numberWhere(key: QaqKey, text: string | undefined, fallback: number, allowed: string, ok: (value: number) => boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text === "" || !ok(value)) throw new ConfigError(`qaq.${key}`, allowed, text);
  return value;
}

function choice<T extends string>(key: QaqKey, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) throw new ConfigError(`qaq.${key}`, allowed.map((a) => `"${a}"`).join(" or "), text);
  return text as T;
}
