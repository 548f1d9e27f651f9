/** Markdown tables of the report: Table 1, every run per task and protocol, the ablations, the chance check. */
import { formatKvSpec, parseKvSpec, type KVCacheConfig } from "../../cache/spec.js";
import { PROTOCOLS, type EvalProtocol } from "../protocol/evalProtocol.js";
import type { ResultLine } from "../resultLine.js";
import { formatNumber } from "../resultSummary.js";
import type { TaskKind } from "../tasks/taskDefinition.js";
import { TASKS } from "../tasks/taskTable.js";
import { methodOf } from "./methods.js";
import { viewsFor, type QualityView } from "./qualityViews.js";
import type { Table1 } from "./table1.js";

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "n/a");
const percent = (fraction: number) => (Number.isFinite(fraction) ? `${(100 * fraction).toFixed(2)}%` : "n/a");

export function table1Markdown(table: Table1, view: QualityView, threshold: number): string {
  const lossText = view.id === "acc" ? "accuracy points" : "relative";
  const rows = table.methods.map((method) => [
    method,
    ...table.tasks.map((task) => {
      const cell = table.cells.get(method)?.get(task);
      if (cell === undefined) return "";
      if (cell === null) return `none < ${percent(threshold)}`;
      return [`**${ratio(cell.ratio)}** (paper ${ratio(cell.paperRatio)})`, cell.setting, `loss ${percent(cell.loss)}`].filter((p) => p !== "").join(", ");
    }),
  ]);
  return `${markdownTable(["method", ...table.tasks], rows)}\n\nLoss = ${view.id === "agreement" ? "1 − agreement" : `fp32 − cache (${lossText})`}; bold: measured compression vs fp16 (all bytes), in parentheses the paper's bits-only ratio of the same run.`;
}

interface Column {
  readonly header: string;
  value(line: ResultLine): string;
}

const COMMON: readonly Column[] = [
  { header: "method", value: (l) => methodOf(l.spec).method },
  { header: "setting", value: (l) => methodOf(l.spec).setting },
  { header: "measured", value: (l) => ratio(l.cache.ratioVsFp16) },
  { header: "paper", value: (l) => ratio(l.cache.paperRatio) },
  { header: "bits/value", value: (l) => formatNumber(l.cache.bitsPerValue) },
  { header: "codes / metadata / outliers / fp tokens", value: (l) => hotShares(l) },
  { header: "backing tier", value: (l) => (l.cache.meanBackingBytes > 0 ? `${Math.round(l.cache.meanBackingBytes)} B ${backingPlace(l)}` : "") },
  { header: "slack", value: (l) => (l.cache.meanSlackBytes > 0 ? `${Math.round(l.cache.meanSlackBytes)} B` : "") },
];

/** Where a QAQ run kept its full-precision copy: a file on disk for backing=file, process memory otherwise. */
function backingPlace(l: ResultLine): string {
  const c = parseKvSpec(l.spec);
  return c.kind === "qaq" && c.backing === "file" ? "on disk" : "in memory";
}

/** Where the hot bytes go, in percent of them. */
function hotShares(l: ResultLine): string {
  const c = l.cache;
  if (c.meanCodesBytes === undefined || !(c.meanHotBytes > 0)) return "";
  return [c.meanCodesBytes, c.meanMetadataBytes, c.meanOutlierBytes, c.meanResidualBytes].map((b) => ((100 * b) / c.meanHotBytes).toFixed(0)).join(" / ");
}

const withError = (l: ResultLine, name: string) => `${formatNumber(l.metrics[name])} ± ${formatNumber(l.metrics[`${name}_stderr`])}`;

const KIND_COLUMNS: Readonly<Record<TaskKind, readonly Column[]>> = {
  perplexity: [
    { header: "ppl", value: (l) => withError(l, "ppl") },
    { header: "Δppl", value: (l) => percent(l.metrics["ppl"]! / l.fp32["ppl"]! - 1) },
    { header: "KL", value: (l) => formatNumber(l.metrics["kl"]) },
    { header: "top-1", value: (l) => formatNumber(l.metrics["top1"]) },
  ],
  choice: [
    { header: "agreement", value: (l) => formatNumber(l.metrics[l.scoring === "paper" ? "agreement_mean" : "agreement"]) },
    { header: "Δ gold loglik", value: (l) => withError(l, "gold_loglik_delta") },
    { header: "KL", value: (l) => formatNumber(l.metrics["kl"]) },
    { header: "top-1", value: (l) => formatNumber(l.metrics["top1"]) },
    { header: "acc", value: (l) => withError(l, "acc") },
    { header: "acc_norm", value: (l) => withError(l, "acc_norm") },
    { header: "acc_mean", value: (l) => withError(l, "acc_mean") },
  ],
  generation: [
    { header: "tokens before divergence", value: (l) => withError(l, "match_tokens") },
    { header: "full match", value: (l) => formatNumber(l.metrics["full_match"]) },
  ],
};

/** Every run of one task under one protocol, methods in the order they first appear, then by compression. */
export function allRunsMarkdown(lines: readonly ResultLine[], task: string, protocol: EvalProtocol): string | undefined {
  const group = lines.filter((l) => l.task === task && l.protocol === protocol);
  if (group.length === 0) return undefined;
  const order = [...new Set(group.map((l) => methodOf(l.spec).method))];
  const sorted = [...group].sort((a, b) => order.indexOf(methodOf(a.spec).method) - order.indexOf(methodOf(b.spec).method) || a.cache.ratioVsFp16 - b.cache.ratioVsFp16);
  const columns = [...COMMON, ...KIND_COLUMNS[group[0]!.taskKind]];
  return markdownTable(columns.map((c) => c.header), sorted.map((l) => columns.map((c) => c.value(l))));
}

/** One ablation: a rule mapping a run's config to its counterpart's (undefined: not part of this ablation). */
interface Ablation {
  readonly title: string;
  readonly without: string;
  readonly with: string;
  counterpart(config: KVCacheConfig): KVCacheConfig | undefined;
}

const ABLATIONS: readonly Ablation[] = [
  {
    title: "Outliers, uniform quantization (0 vs 1%)",
    without: "no outliers",
    with: "1% outliers",
    counterpart: (c) => (c.kind === "uniform" && c.outlierRatio === 0 ? { ...c, outlierRatio: 0.01 } : undefined),
  },
  {
    title: "Outliers, QAQ (0 vs 1%)",
    without: "no outliers",
    with: "1% outliers",
    counterpart: (c) => (c.kind === "qaq" && c.outlierRatio === 0 ? { ...c, outlierRatio: 0.01 } : undefined),
  },
  {
    title: "Attention window, QAQ (n = 1 vs 5)",
    without: "window 1",
    with: "window 5",
    counterpart: (c) => (c.kind === "qaq" && c.window === 1 ? { ...c, window: 5 } : undefined),
  },
];

/** The ablation tables of one task and protocol, on the task kind's first (signal) measure. */
export function ablationsMarkdown(lines: readonly ResultLine[], task: string, protocol: EvalProtocol): string[] {
  const group = lines.filter((l) => l.task === task && l.protocol === protocol);
  if (group.length === 0) return [];
  const view = viewsFor(group[0]!.taskKind)[0]!;
  const bySpec = new Map(group.map((l) => [l.spec, l]));
  const sections: string[] = [];
  for (const ablation of ABLATIONS) {
    const rows: string[][] = [];
    for (const line of group) {
      const other = ablation.counterpart(parseKvSpec(line.spec));
      const partner = other === undefined ? undefined : bySpec.get(formatKvSpec(other));
      if (!partner) continue;
      rows.push([line.spec, ratio(line.cache.ratioVsFp16), formatNumber(view.value(line)), ratio(partner.cache.ratioVsFp16), formatNumber(view.value(partner))]);
    }
    if (rows.length === 0) continue;
    const header = ["spec (first column)", `${ablation.without}: measured`, `${ablation.without}: ${view.id}`, `${ablation.with}: measured`, `${ablation.with}: ${view.id}`];
    sections.push(`#### ${ablation.title} — ${task}, ${protocol} protocol (${view.label})\n\n${markdownTable(header, rows)}`);
  }
  return sections;
}

/** Plain statements on how far the fp32 model is from chance on each multiple-choice task. */
export function chanceNotes(lines: readonly ResultLine[]): string[] {
  const notes: string[] = [];
  for (const task of [...new Set(lines.filter((l) => l.taskKind === "choice").map((l) => l.task))]) {
    const line = lines.find((l) => l.task === task && l.taskKind === "choice")!;
    const definition = Object.hasOwn(TASKS, task) ? TASKS[task] : undefined;
    const choices = definition?.kind === "choice" ? definition.choiceCount : undefined;
    if (choices === undefined) continue;
    const name = line.scoring === "paper" ? "acc_mean" : "acc";
    const acc = line.fp32[name]!;
    const stderr = line.fp32[`${name}_stderr`]!;
    const chance = 1 / choices;
    const near = Math.abs(acc - chance) <= 2 * stderr;
    notes.push(
      `- ${task}: the fp32 cache scores ${name} ${formatNumber(acc)} ± ${formatNumber(stderr)} on ${line.items} items; chance is ${formatNumber(chance)} (${choices} choices)` +
        (near ? " — within two standard errors of chance: accuracy differences between caches on this task are noise." : "."),
    );
  }
  return notes;
}

export function protocolsOf(lines: readonly ResultLine[]): EvalProtocol[] {
  return PROTOCOLS.filter((p) => lines.some((l) => l.protocol === p));
}
