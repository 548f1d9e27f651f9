/**
 * Two tables of the perplexity tasks in measured bytes (compression = fp16 bytes / measured hot bytes, same tokens):
 *
 * - the Pareto front over every method of one task and protocol: the runs that no other run beats on both
 *   measured compression and perplexity (or KL against fp32; figures.ts's paretoFront), with KL and top-1 agreement;
 * - QAQ's budgets (ratio=R, streaming) against uniform quantization at the same measured bytes. Uniform runs are
 *   discrete points; its front (best perplexity at each compression) is read at QAQ's measured compression r by
 *   linear interpolation of perplexity in log compression between the nearest uniform front points on either side,
 *   u(r) = u_lo + (u_hi − u_lo) · ln(r / r_lo) / ln(r_hi / r_lo).
 *   Where no uniform run reaches r (beyond its front) or none is at least as large, the comparison says so instead
 *   of extrapolating. QAQ wins the comparison when its perplexity ≤ u(r). The same reading of uniform's KL front
 *   (KL against the fp32 cache, which perplexity can hide: a cache may gain on one text what it loses on another)
 *   gives the second verdict.
 */
import type { EvalProtocol } from "../protocol/evalProtocol.js";
import type { ResultLine } from "../resultLine.js";
import { formatNumber } from "../resultSummary.js";
import { paretoFront } from "./figures.js";
import { methodOf } from "./methods.js";
import { markdownTable, ratio } from "./reportTables.js";
import { parseKvSpec } from "../../cache/spec.js";

const signedPercent = (fraction: number) => `${fraction >= 0 ? "+" : ""}${(100 * fraction).toFixed(2)}%`;

interface Point {
  readonly x: number;
  readonly y: number;
  readonly line: ResultLine;
}

function perplexityPoints(lines: readonly ResultLine[], task: string, protocol: EvalProtocol, keep: (l: ResultLine) => boolean = () => true): Point[] {
  return lines
    .filter((l) => l.task === task && l.protocol === protocol && l.taskKind === "perplexity" && keep(l))
    .map((l) => ({ x: l.cache.ratioVsFp16, y: l.metrics["ppl"]!, line: l }))
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
}

const delta = (l: ResultLine) => signedPercent(l.metrics["ppl"]! / l.fp32["ppl"]! - 1);

/**
 * The runs on the front of one task and protocol, in increasing compression: against perplexity, or against the
 * KL divergence from the fp32 cache's next-token distribution (which eviction cannot hide by luck on one text).
 */
export function paretoTableMarkdown(lines: readonly ResultLine[], task: string, protocol: EvalProtocol, by: "ppl" | "kl"): string | undefined {
  const points = perplexityPoints(lines, task, protocol).map((p) => (by === "ppl" ? p : { ...p, y: p.line.metrics["kl"]! }));
  if (points.length === 0) return undefined;
  const front = paretoFront(points, "lower");
  const rows = front.map((p) => {
    const { method, setting } = methodOf(p.line.spec);
    return [method, setting, ratio(p.x), formatNumber(p.line.metrics["ppl"]), delta(p.line), formatNumber(p.line.metrics["kl"]), formatNumber(p.line.metrics["top1"])];
  });
  return markdownTable(["method", "setting", "measured", "ppl", "Δppl vs fp32", "KL", "top-1"], rows);
}

const isUniform = (l: ResultLine) => {
  const c = parseKvSpec(l.spec);
  // both parts quantized (keys-only and values-only runs keep half the cache in fp16: a different question)
  return c.kind === "uniform" && c.keyBits < 16 && c.valueBits < 16;
};

const isQaqRatio = (l: ResultLine) => {
  const c = parseKvSpec(l.spec);
  return c.kind === "qaq" && c.budget?.kind === "ratio";
};

/**
 * Uniform's front read at compression x (see the file comment), with the points it was read from. Below the front's
 * smallest compression the answer is that first point (uniform with fewer bytes), beyond its largest none is given.
 */
function uniformAt(front: readonly Point[], x: number): { value: number; lo: Point | undefined; hi: Point } | undefined {
  const lo = [...front].reverse().find((p) => p.x <= x);
  const hi = front.find((p) => p.x >= x);
  if (hi === undefined) return undefined;
  if (lo === undefined) return { value: hi.y, lo, hi };
  if (hi.x === lo.x) return { value: Math.min(lo.y, hi.y), lo, hi };
  const t = Math.log(x / lo.x) / Math.log(hi.x / lo.x);
  return { value: lo.y + (hi.y - lo.y) * t, lo, hi };
}

/** QAQ's ratio=R runs (stream protocol) against uniform's front at the same measured compression. */
export function budgetComparisonMarkdown(lines: readonly ResultLine[], task: string): string | undefined {
  const protocol: EvalProtocol = "stream";
  const budgets = perplexityPoints(lines, task, protocol, isQaqRatio).sort((a, b) => a.x - b.x || a.line.spec.localeCompare(b.line.spec));
  const uniformPoints = perplexityPoints(lines, task, protocol, isUniform);
  const uniform = paretoFront(uniformPoints, "lower");
  const uniformKl = paretoFront(uniformPoints.map((p) => ({ ...p, y: p.line.metrics["kl"]! })), "lower");
  if (budgets.length === 0 || uniform.length === 0) return undefined;
  const label = (p: Point) => `${methodOf(p.line.spec).method} ${methodOf(p.line.spec).setting} (${ratio(p.x)}, ${formatNumber(p.y)})`;
  const rows = budgets.map((p) => {
    const c = parseKvSpec(p.line.spec);
    const options = c.kind === "qaq" ? [c.group === "auto" ? "group auto" : `group ${c.group}`, c.backing !== "memory" ? `backing ${c.backing}` : ""] : [];
    const head = [methodOf(p.line.spec).setting, options.filter((o) => o !== "").join(", "), ratio(p.x), formatNumber(p.y), delta(p.line), formatNumber(p.line.metrics["kl"])];
    const kl = p.line.metrics["kl"]!;
    const klAt = uniformAt(uniformKl, p.x);
    const klCells = klAt === undefined ? ["", "n/a"] : [formatNumber(klAt.value), kl <= klAt.value ? `QAQ ${(klAt.value / kl).toFixed(2)}x lower` : `uniform ${(kl / klAt.value).toFixed(2)}x lower`];
    const at = uniformAt(uniform, p.x);
    if (at === undefined) return [...head, "beyond uniform's front", "", "n/a", ...klCells];
    const between = at.lo === undefined ? `${label(at.hi)}, with fewer bytes` : at.lo === at.hi ? label(at.lo) : `${label(at.lo)} … ${label(at.hi)}`;
    const difference = p.y / at.value - 1;
    const verdict = difference <= 0 ? `QAQ better by ${(-100 * difference).toFixed(2)}%` : `uniform better by ${(100 * difference).toFixed(2)}%`;
    return [...head, between, formatNumber(at.value), verdict, ...klCells];
  });
  const header = [
    "QAQ budget", "options", "measured", "QAQ ppl", "Δppl vs fp32", "QAQ KL", "uniform front points read (method setting (measured, ppl))",
    "uniform ppl at QAQ's bytes", "perplexity verdict", "uniform KL at QAQ's bytes", "KL verdict",
  ];
  return markdownTable(header, rows);
}
