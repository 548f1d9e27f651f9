/**
 * The report's markdown: what was run (model, data, items, protocols, seeds, versions, the sweep commands and their
 * wall time), the chance check, then the measures that carry signal before accuracy: Table 1 on perplexity, answer
 * agreement and greedy generation first, accuracy last; the figures; the ablations. Every run is listed in a
 * second file (all-runs.md) beside the figures.
 */
import { basename } from "node:path";
import type { ResultLine } from "../resultLine.js";
import { formatNumber } from "../resultSummary.js";
import { formatDuration } from "../sweep/ProgressBar.js";
import type { Figure } from "./figures.js";
import type { ReportInput } from "./loadResults.js";
import { QUALITY_VIEWS } from "./qualityViews.js";
import { ablationsMarkdown, allRunsMarkdown, chanceNotes, markdownTable, protocolsOf, table1Markdown } from "./reportTables.js";
import { buildTable1 } from "./table1.js";
import { budgetComparisonMarkdown, paretoTableMarkdown } from "./measuredFront.js";

/** The paper's criterion: the largest compression with less than 1% quality loss. */
export const LOSS_THRESHOLD = 0.01;

const PROTOCOL_TEXT: Readonly<Record<string, string>> = {
  prompt:
    "prompt compression (the paper's protocol): the prompt is prefilled in full precision and quantized once; scoring or generation continues on top of it (prompt = a question's context; a generation prompt; the first half of each perplexity window, whose second half is scored)",
  stream: "streaming (how a server runs): every token, the context's included, goes through the cache under test as it is produced",
};

const unique = <T>(values: readonly T[]) => [...new Set(values)];
const tasksOf = (lines: readonly ResultLine[]) => unique(lines.map((l) => l.task));

function setupSection(input: ReportInput, command: string): string {
  const lines = input.lines;
  const taskRows = tasksOf(lines).map((task) => {
    const l = lines.find((x) => x.task === task)!;
    return [task, l.taskKind, basename(l.data), `${l.items} ${l.taskKind === "perplexity" ? "tokens" : "items"}`, l.scoring, String(l.seed), l.ctx === null ? "" : String(l.ctx)];
  });
  const runRows = input.runs.map((r) => [
    `\`${r.command}\``,
    r.started.replace("T", " ").slice(0, 19),
    formatDuration(r.wallSeconds),
    `${r.workers} × ${r.threadsPerWorker} (${r.cpus} CPUs)`,
    String(r.written),
    String(r.failed),
    r.interrupted ? "yes" : "no",
  ]);
  const total = input.runs.reduce((sum, r) => sum + r.wallSeconds, 0);
  const parts = [
    "## What was run",
    "",
    `- Model: ${unique(lines.map((l) => basename(l.model))).join(", ")}; project version ${unique(lines.map((l) => l.version)).join(", ")}; ${lines.length} result lines from ${input.files.map((f) => `\`${basename(f)}\``).join(", ")}.`,
    `- Report: \`${command}\``,
    ...protocolsOf(lines).map((p) => `- Protocol \`${p}\`: ${PROTOCOL_TEXT[p]}.`),
    "",
    markdownTable(["task", "kind", "data", "scored", "scoring", "seed", "ctx"], taskRows),
  ];
  if (runRows.length > 0) {
    parts.push("", `Sweep invocations (${formatDuration(total)} wall time in all):`, "", markdownTable(["command", "started (UTC)", "wall", "workers × threads", "lines", "failed", "interrupted"], runRows));
  }
  return parts.join("\n");
}

function readFirstSection(lines: readonly ResultLine[]): string {
  return [
    "## Read this first",
    "",
    ...chanceNotes(lines),
    "- Quality is always compared with the fp32 cache of the same engine on the same tokens. Perplexity, KL divergence, top-1 agreement, answer agreement and the change of the correct answer's log-likelihood move with every cache; accuracy near chance does not, so the tables below lead with the former.",
    "- Compression: **measured** = bytes of the same tokens in fp16 / bytes the cache holds for its tokens (codes, scales, zeros, bit widths, outliers and their positions, full-precision windows and tails, QAQ's policy state), pooled over every scoring point; capacity allocated beyond the stored tokens (growth room) is slack, listed apart in all-runs.md and in no ratio; **paper** = the QAQ paper's bits-only figure 16 / mean code bits (outliers at 16 bits, no metadata). QAQ streaming's full-precision backing tier (its re-quantization source) is not in the measured figure; all-runs.md lists it apart.",
    "- Standard errors: accuracy sqrt(p(1−p)/N); perplexity and KL from the per-token spread. The < 1% criterion uses point estimates and is noisy at small N.",
  ].join("\n");
}

function table1Section(lines: readonly ResultLine[]): string {
  const parts = ["## Largest compression with < 1% quality loss (the paper's Table 1 form)"];
  // the measures that carry signal first, accuracy last
  const views = QUALITY_VIEWS.filter((v) => v.loss !== null && lines.some((l) => l.taskKind === v.kind)).sort((a, b) => Number(b.signal) - Number(a.signal));
  for (const view of views) {
    for (const protocol of protocolsOf(lines)) {
      const table = buildTable1(lines, view, protocol, LOSS_THRESHOLD);
      if (table.tasks.length === 0) continue;
      parts.push("", `### ${view.label}, ${protocol} protocol`, "", table1Markdown(table, view, LOSS_THRESHOLD));
    }
  }
  return parts.join("\n");
}

function measuredFrontSection(lines: readonly ResultLine[]): string {
  const parts = [
    "## Pareto fronts in measured bytes (perplexity tasks)",
    "",
    "The runs no other run beats on both measured compression and perplexity (then: and KL against fp32), every method together.",
  ];
  for (const by of ["ppl", "kl"] as const) {
    for (const task of tasksOf(lines)) {
      for (const protocol of protocolsOf(lines)) {
        const table = paretoTableMarkdown(lines, task, protocol, by);
        if (table !== undefined) parts.push("", `### ${task}, ${protocol} protocol: front by ${by === "ppl" ? "perplexity" : "KL"}`, "", table);
      }
    }
  }
  const budgets = tasksOf(lines).map((task) => [task, budgetComparisonMarkdown(lines, task)] as const).filter(([, table]) => table !== undefined);
  if (budgets.length > 0) {
    parts.push(
      "",
      "## QAQ's budgets against uniform at the same measured bytes (stream protocol)",
      "",
      "Uniform's front (its best perplexity at each measured compression, keys and values both quantized) read at QAQ's measured compression by linear interpolation in log compression between the uniform runs on either side; below uniform's smallest compression its first front point (fewer bytes than QAQ) stands in. The KL columns read uniform's KL front the same way.",
    );
    for (const [task, table] of budgets) parts.push("", `### ${task}`, "", table!);
  }
  return parts.join("\n");
}

function figuresSection(figures: readonly Figure[], pngs: boolean): string {
  const parts = ["## Figures", "", pngs ? "SVG (PNG copies beside them)." : "SVG only (no rsvg-convert or ImageMagick on the machine that made the report)."];
  const pareto = figures.filter((f) => f.name.startsWith("pareto-"));
  const fig2a = figures.filter((f) => f.name.startsWith("fig2a-"));
  parts.push("", "### Quality vs measured compression (Pareto fronts)");
  for (const f of pareto) parts.push("", `![${f.caption}](figures/${f.name}.svg)`);
  // a grid without keys-only / values-only runs has no Figure 2a
  if (fig2a.length > 0) parts.push("", "### Keys-only vs values-only quantization (the paper's Figure 2a)");
  for (const f of fig2a) parts.push("", `![${f.caption}](figures/${f.name}.svg)`);
  return parts.join("\n");
}

function ablationSection(lines: readonly ResultLine[]): string {
  const tables = tasksOf(lines).flatMap((task) => protocolsOf(lines).flatMap((p) => ablationsMarkdown(lines, task, p)));
  return `## Ablations: outliers and the attention window\n\n${tables.length > 0 ? tables.join("\n\n") : "(no matching pairs of runs in these results)"}`;
}

export function resultsMarkdown(input: ReportInput, figures: readonly Figure[], pngs: boolean, command: string, notes: string): string {
  const lines = input.lines;
  const title = `# KV-cache quality vs compression: ${unique(lines.map((l) => basename(l.model))).join(", ")}`;
  const sections = [title, ...(notes.trim() === "" ? [] : [notes.trim()]), setupSection(input, command), readFirstSection(lines), table1Section(lines), measuredFrontSection(lines), figuresSection(figures, pngs), ablationSection(lines)];
  sections.push("## Every run\n\nOne table per task and protocol: [figures/all-runs.md](figures/all-runs.md).");
  return sections.join("\n\n") + "\n";
}

export function allRunsFile(lines: readonly ResultLine[]): string {
  const parts = ["# Every run", "", "measured / paper: compression vs fp16 (see RESULTS.md). ± standard errors. Δ gold loglik: change of the correct choice's summed log-likelihood vs fp32 (nats)."];
  for (const task of tasksOf(lines)) {
    for (const protocol of protocolsOf(lines)) {
      const table = allRunsMarkdown(lines, task, protocol);
      if (!table) continue;
      const fp32 = lines.find((l) => l.task === task && l.protocol === protocol)!.fp32;
      const reference = Object.entries(fp32).filter(([k]) => !k.endsWith("_stderr")).map(([k, v]) => `${k} ${formatNumber(v)}`).join(", ");
      parts.push("", `## ${task}, ${protocol} protocol`, "", `fp32 on the same items: ${reference}.`, "", table);
    }
  }
  return parts.join("\n") + "\n";
}
