import { ConfigError } from "../util/errors.js";
import type { UniformMethod } from "../quant/uniform.js";
import { parseSpecParams, type SpecParams } from "./specParams.js";
import { formatQaqParams, parseQaqSpec, type QaqConfig } from "./qaq/qaqSpec.js";
import { ROTATIONS, type Rotation } from "./rotation.js";
import { KEY_SCALINGS, type KeyScaling } from "./keyChannels.js";

/**
 * KV-cache configurations: a discriminated union, parsed from one compact text form and validated here, before
 * any work starts:
 *
 *   fp32 | fp16
 *   uniform:k=4,v=2[,group=head|layer][,outliers=0.01][,sinks=4][,method=minmax|meanclip][,rotate=hadamard][,keys=channel]
 *                                                                                            (or bits=4 for both)
 *   kivi:bits=2|4[,group=32][,residual=128][,rotate=hadamard]
 *   blockq:q8_0 | blockq:q4_0
 *   h2o:budget=256[,recent=N]                 (recent defaults to budget/2, rounded down)
 *   streaming:budget=256[,sinks=4]
 *   qaq[:kTol=..,vTol=..,min=..,max=..,window=5,...]   (keys and defaults: qaq/qaqSpec.ts)
 *
 * Widths of the uniform cache: 0..8 bits packed, or 16 = that part stored as fp16.
 * rotate=hadamard (uniform, kivi, qaq): keys and values rotated per KV head before quantization (RotatedCache.ts).
 * keys=channel (uniform, qaq): keys smoothed per channel before quantization (ChannelSmoothedCache.ts).
 * Extension point for another policy (e.g. `qaq:...`): add its member to KVCacheConfig, a parser to POLICY_PARSERS,
 * a case to formatKvSpec and to createCache; the compiler's exhaustiveness checks point at every other place.
 */
export type GroupScopeName = "head" | "layer";
export type BlockFormat = "q8_0" | "q4_0";

export type KVCacheConfig =
  | { readonly kind: "fp32" }
  | { readonly kind: "fp16" }
  | {
      readonly kind: "uniform";
      readonly keyBits: number;
      readonly valueBits: number;
      readonly group: GroupScopeName;
      readonly outlierRatio: number;
      readonly sinkTokens: number;
      readonly method: UniformMethod;
      readonly rotate: Rotation;
      readonly keys: KeyScaling;
    }
  | { readonly kind: "kivi"; readonly bits: 2 | 4; readonly groupSize: number; readonly residualLength: number; readonly rotate: Rotation }
  | { readonly kind: "blockq"; readonly format: BlockFormat }
  | { readonly kind: "h2o"; readonly budget: number; readonly recent: number }
  | { readonly kind: "streaming"; readonly budget: number; readonly sinkTokens: number }
  | QaqConfig;

export type UniformConfig = Extract<KVCacheConfig, { kind: "uniform" }>;
export type KiviConfig = Extract<KVCacheConfig, { kind: "kivi" }>;
export type BlockqConfig = Extract<KVCacheConfig, { kind: "blockq" }>;
export type H2oConfig = Extract<KVCacheConfig, { kind: "h2o" }>;
export type StreamingConfig = Extract<KVCacheConfig, { kind: "streaming" }>;

/** Widths a uniform part may have: packed 0..8, or 16 (fp16 storage). */
export const UNIFORM_WIDTHS = "an integer 0..8, or 16 (fp16 storage)";
/** The KIVI key kernel reads blocks of exactly this many tokens. */
export const KIVI_BLOCK_TOKENS = 32;

const POLICY_PARSERS: { readonly [kind in KVCacheConfig["kind"]]: (p: SpecParams) => KVCacheConfig } = {
  fp32: (p) => (p.done(), { kind: "fp32" }),
  fp16: (p) => (p.done(), { kind: "fp16" }),
  uniform: parseUniform,
  kivi: (p) => {
    const bits = p.choice("bits", ["2", "4"], undefined);
    const groupSize = p.integer("group", KIVI_BLOCK_TOKENS, KIVI_BLOCK_TOKENS, KIVI_BLOCK_TOKENS);
    const residualLength = p.integer("residual", 128, 0, 1 << 20);
    const rotate = p.choice("rotate", ROTATIONS, "none");
    p.done();
    return { kind: "kivi", bits: bits === "2" ? 2 : 4, groupSize, residualLength, rotate };
  },
  blockq: (p) => ({ kind: "blockq", format: p.bare(["q8_0", "q4_0"]) }),
  h2o: (p) => {
    const budget = p.integer("budget", undefined, 1, 1 << 24);
    const recent = p.integer("recent", Math.floor(budget / 2), 0, budget);
    p.done();
    return { kind: "h2o", budget, recent };
  },
  streaming: (p) => {
    const sinkTokens = p.integer("sinks", 4, 0, 1 << 24);
    const budget = p.integer("budget", undefined, 1, 1 << 24);
    p.done();
    if (budget < sinkTokens) throw new ConfigError("streaming.budget", `at least sinks (${sinkTokens})`, budget);
    return { kind: "streaming", budget, sinkTokens };
  },
  qaq: parseQaqSpec,
};

export const CACHE_KINDS = Object.keys(POLICY_PARSERS) as readonly KVCacheConfig["kind"][];

export function parseKvSpec(spec: string): KVCacheConfig {
  const text = spec.trim();
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const params = colon < 0 ? undefined : text.slice(colon + 1);
  if (!Object.hasOwn(POLICY_PARSERS, kind)) throw new ConfigError("kv", `one of ${CACHE_KINDS.join(", ")}`, kind);
  return POLICY_PARSERS[kind as KVCacheConfig["kind"]](parseSpecParams(kind, params));
}

function parseUniform(p: SpecParams): KVCacheConfig {
  const both = p.has("bits") ? p.width("bits") : undefined;
  if (both !== undefined && (p.has("k") || p.has("v"))) {
    throw new ConfigError("uniform.bits", "either bits=B (keys and values) or k=B,v=B, not both", "bits with k/v");
  }
  const keyBits = both ?? p.width("k");
  const valueBits = both ?? p.width("v");
  const group = p.choice("group", ["head", "layer"], "head");
  const outlierRatio = p.fraction("outliers", 0);
  const sinkTokens = p.integer("sinks", 0, 0, 1 << 24);
  const method = p.choice("method", ["minmax", "meanclip"], "minmax") === "minmax" ? "minmax" : "meanClip";
  const rotate = p.choice("rotate", ROTATIONS, "none");
  const keys = p.choice("keys", KEY_SCALINGS, "token");
  p.done();
  return { kind: "uniform", keyBits, valueBits, group, outlierRatio, sinkTokens, method, rotate, keys };
}

/** The compact text form of a config, defaults left out (parseKvSpec(formatKvSpec(c)) equals c). */
export function formatKvSpec(config: KVCacheConfig): string {
  switch (config.kind) {
    case "fp32":
    case "fp16":
      return config.kind;
    case "uniform": {
      const c = config;
      const widths = c.keyBits === c.valueBits ? [`bits=${c.keyBits}`] : [`k=${c.keyBits}`, `v=${c.valueBits}`];
      const extras = [
        c.group !== "head" ? `group=${c.group}` : "",
        c.outlierRatio !== 0 ? `outliers=${c.outlierRatio}` : "",
        c.sinkTokens !== 0 ? `sinks=${c.sinkTokens}` : "",
        c.method !== "minmax" ? "method=meanclip" : "",
        c.rotate !== "none" ? `rotate=${c.rotate}` : "",
        c.keys !== "token" ? `keys=${c.keys}` : "",
      ];
      return `uniform:${[...widths, ...extras].filter((s) => s !== "").join(",")}`;
    }
    case "kivi":
      return `kivi:bits=${config.bits}${config.residualLength !== 128 ? `,residual=${config.residualLength}` : ""}${
        config.rotate !== "none" ? `,rotate=${config.rotate}` : ""
      }`;
    case "blockq":
      return `blockq:${config.format}`;
    case "h2o":
      return `h2o:budget=${config.budget}${config.recent !== Math.floor(config.budget / 2) ? `,recent=${config.recent}` : ""}`;
    case "streaming":
      return `streaming:budget=${config.budget}${config.sinkTokens !== 4 ? `,sinks=${config.sinkTokens}` : ""}`;
    case "qaq": {
      const params = formatQaqParams(config);
      return params === "" ? "qaq" : `qaq:${params}`;
    }
    default: {
      const unreachable: never = config;
      throw new Error(`no spec form for ${JSON.stringify(unreachable)}`);
    }
  }
}
