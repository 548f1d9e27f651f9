/**
 * Grouping result lines by method for the report: a method is a cache kind with its qualitative options (what the
 * paper's tables call a method: "uniform +1% outliers", "QAQ (paper, window 5, 1% outliers)"); the setting is the
 * swept quantity (bits, tolerances, budget). The Figure-2a curves are the uniform keys-only / values-only methods.
 */
import { parseKvSpec, type KVCacheConfig } from "../../cache/spec.js";

export interface MethodOf {
  readonly method: string;
  readonly setting: string;
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))}%`;
}

function uniformMethod(c: Extract<KVCacheConfig, { kind: "uniform" }>): MethodOf {
  const part = c.keyBits === 16 && c.valueBits !== 16 ? " values-only" : c.valueBits === 16 && c.keyBits !== 16 ? " keys-only" : "";
  const extras = [
    c.outlierRatio > 0 ? ` +${percent(c.outlierRatio)} outliers` : "",
    c.group === "layer" ? " per layer" : "",
    c.sinkTokens > 0 ? ` +${c.sinkTokens} sinks` : "",
    c.method === "meanClip" ? " meanclip" : "",
    c.rotate === "hadamard" ? " rotated" : "",
    c.keys === "channel" ? " keys per channel" : "",
  ].join("");
  const setting = part === " values-only" ? `v=${c.valueBits}` : part === " keys-only" ? `k=${c.keyBits}` : c.keyBits === c.valueBits ? `bits=${c.keyBits}` : `k=${c.keyBits},v=${c.valueBits}`;
  return { method: `uniform${part}${extras}`, setting };
}

function qaqMethod(c: Extract<KVCacheConfig, { kind: "qaq" }>): MethodOf {
  const options = [
    c.variant,
    `window ${c.window}`,
    `${percent(c.outlierRatio)} outliers`,
    // the default (auto) resolves per model, so the two explicit groupings are always named
    c.group === "layer" ? "per layer" : c.group === "head" ? "per head" : "group auto",
    c.sinkTokens > 0 ? `${c.sinkTokens} sinks` : "",
    c.minBits !== 1 || c.maxBits !== 8 ? `bits ${c.minBits}..${c.maxBits}` : "",
    c.queryQuantile !== 0.9 ? `quantile ${c.queryQuantile}` : "",
    // prompt mode has no backing tier (none is its only choice): named only where streaming chose it
    c.backing === "file" || (c.backing === "none" && c.mode === "stream") ? `backing ${c.backing}` : "",
    c.rotate === "hadamard" ? "rotated" : "",
    c.keys === "channel" ? "keys per channel" : "",
  ].filter((o) => o !== "");
  const tolerances = `kTol=${c.keyTolerance},vTol=${c.valueTolerance}`;
  const setting = c.budget === null ? tolerances : c.budget.kind === "ratio" ? `ratio=${c.budget.ratio}` : `budget=${c.budget.bytes}`;
  return { method: `QAQ (${options.join(", ")}${c.budget === null ? "" : ", budget"})`, setting };
}

export function methodOf(spec: string): MethodOf {
  const c = parseKvSpec(spec);
  switch (c.kind) {
    case "fp32":
    case "fp16":
      return { method: c.kind, setting: "" };
    case "uniform":
      return uniformMethod(c);
    case "kivi":
      return {
        method: `${c.residualLength === 128 ? "KIVI" : `KIVI (residual ${c.residualLength})`}${c.rotate === "hadamard" ? " rotated" : ""}`,
        setting: `bits=${c.bits}`,
      };
    case "blockq":
      return { method: "blockq", setting: c.format };
    case "h2o":
      return { method: "H2O", setting: `budget=${c.budget}` };
    case "streaming":
      return { method: "StreamingLLM", setting: `budget=${c.budget}` };
    case "qaq":
      return qaqMethod(c);
    default: {
      const unreachable: never = c;
      throw new Error(`no method for ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Bits of a Figure-2a point: the quantized part's width of a keys-only or values-only uniform spec. */
export function figure2aPoint(spec: string): { readonly part: "keys" | "values"; readonly bits: number } | undefined {
  const c = parseKvSpec(spec);
  if (c.kind !== "uniform" || c.outlierRatio > 0 || c.group !== "head" || c.sinkTokens > 0 || c.method !== "minmax") return undefined;
  if (c.valueBits === 16 && c.keyBits < 16) return { part: "keys", bits: c.keyBits };
  if (c.keyBits === 16 && c.valueBits < 16) return { part: "values", bits: c.valueBits };
  return undefined;
}
