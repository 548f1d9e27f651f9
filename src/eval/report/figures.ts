/**
 * The report's figures, built from result lines:
 *   pareto-<task>-<protocol>-<view>   quality vs measured compression (vs fp16), every run a marker, each method's
 *                                     Pareto front a line, the fp32 value a dashed line;
 *   fig2a-<task>-<protocol>-<view>    the paper's Figure 2a: quality vs bits of uniform keys-only (values fp16) and
 *                                     values-only (keys fp16) quantization.
 */
import { PROTOCOLS } from "../protocol/evalProtocol.js";
import type { ResultLine } from "../resultLine.js";
import { figure2aPoint, methodOf } from "./methods.js";
import { QUALITY_VIEWS, type QualityView } from "./qualityViews.js";
import { renderChart, type ChartSeries, type XY } from "./svgChart.js";

export interface Figure {
  /** file name without extension */
  readonly name: string;
  readonly task: string;
  readonly protocol: string;
  readonly caption: string;
  readonly svg: string;
}

/** Lines grouped by task then protocol, tasks in the order they first appear. */
function byTaskAndProtocol(lines: readonly ResultLine[]): { task: string; protocol: string; lines: ResultLine[] }[] {
  const groups: { task: string; protocol: string; lines: ResultLine[] }[] = [];
  const tasks = [...new Set(lines.map((l) => l.task))];
  for (const task of tasks) {
    for (const protocol of PROTOCOLS) {
      const group = lines.filter((l) => l.task === task && l.protocol === protocol);
      if (group.length > 0) groups.push({ task, protocol, lines: group });
    }
  }
  return groups;
}

function viewsOf(lines: readonly ResultLine[]): QualityView[] {
  return QUALITY_VIEWS.filter((v) => v.kind === lines[0]!.taskKind);
}

function fp32Reference(view: QualityView, lines: readonly ResultLine[]): { y: number; label: string } {
  return { y: view.fp32(lines[0]!), label: "fp32 cache" };
}

/**
 * Pareto fronts of quality against compression: a run is on the front when no other run compresses at least as much
 * with quality at least as good, one of them strictly. Compression (x) is always "higher is better"; quality (y)
 * goes the way its measure says.
 */
/** The non-dominated points, in increasing x. Points with a non-finite coordinate are ignored. */
export function paretoFront<T extends XY>(points: readonly T[], better: "higher" | "lower"): T[] {
  const sign = better === "higher" ? 1 : -1;
  const sorted = points
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    .sort((a, b) => b.x - a.x || sign * (b.y - a.y));
  const front: T[] = [];
  let bestY = -Infinity;
  for (const p of sorted) {
    if (sign * p.y > bestY) {
      front.push(p);
      bestY = sign * p.y;
    }
  }
  return front.reverse();
}

export function paretoFigures(lines: readonly ResultLine[]): Figure[] {
  const figures: Figure[] = [];
  for (const group of byTaskAndProtocol(lines)) {
    for (const view of viewsOf(group.lines)) {
      const methods = new Map<string, (XY & { spec: string })[]>();
      for (const line of group.lines) {
        const { method, setting } = methodOf(line.spec);
        if (!methods.has(method)) methods.set(method, []);
        methods.get(method)!.push({ x: line.cache.ratioVsFp16, y: view.value(line), spec: line.spec, label: setting });
      }
      const series: ChartSeries[] = [...methods].map(([name, points]) => ({ name, points, line: paretoFront(points, view.better) }));
      const name = `pareto-${group.task}-${group.protocol}-${view.id}`;
      figures.push({
        name,
        task: group.task,
        protocol: group.protocol,
        caption: `${group.task}, ${group.protocol} protocol: ${view.label} vs measured compression (lines: each method's Pareto front)`,
        svg: renderChart({
          title: `${group.task} (${group.protocol}): ${view.label}`,
          xLabel: "compression vs fp16 (fp16 bytes / measured hot bytes, same tokens)",
          yLabel: `${view.label} (${view.better} is better)`,
          xLog: true,
          yLog: view.logScale,
          series,
          reference: fp32Reference(view, group.lines),
        }),
      });
    }
  }
  return figures;
}

export function figure2aFigures(lines: readonly ResultLine[]): Figure[] {
  const figures: Figure[] = [];
  for (const group of byTaskAndProtocol(lines)) {
    const points = group.lines.map((line) => ({ line, point: figure2aPoint(line.spec) })).filter((p) => p.point !== undefined);
    if (points.length === 0) continue;
    for (const view of viewsOf(group.lines).filter((v) => v.figure2a)) {
      const series: ChartSeries[] = (["keys", "values"] as const).map((part) => {
        const curve = points
          .filter((p) => p.point!.part === part)
          .map((p) => ({ x: p.point!.bits, y: view.value(p.line) }))
          .sort((a, b) => a.x - b.x);
        return { name: part === "keys" ? "keys quantized, values fp16" : "values quantized, keys fp16", points: curve, line: curve };
      });
      figures.push({
        name: `fig2a-${group.task}-${group.protocol}-${view.id}`,
        task: group.task,
        protocol: group.protocol,
        caption: `${group.task}, ${group.protocol} protocol: ${view.label} when only the keys or only the values are quantized (uniform, per token and head)`,
        svg: renderChart({
          title: `${group.task} (${group.protocol}): keys-only vs values-only`,
          xLabel: "bits of the quantized part",
          yLabel: `${view.label} (${view.better} is better)`,
          xLog: false,
          yLog: view.logScale,
          series,
          reference: fp32Reference(view, group.lines),
        }),
      });
    }
  }
  return figures;
}
