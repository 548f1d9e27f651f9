import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { JobMeasurement, JobRecord } from "./job.js";
import { OUR_BASELINE_CACHE, PEER_BASELINE_CACHE, PEER_CACHE_FOR } from "./plan.js";
import type { ModelResults } from "./runSuite.js";
import { judgeTargets, measurementOf } from "./targets.js";

/** Facts about the run as a whole, printed above the tables. */
export interface RunInfo {
  readonly suites: readonly string[];
  readonly minutes: number;
  readonly peerPackages: readonly string[];
  /** ISO date of the run */
  readonly date: string;
}

/**
 * The generated part of the "side by side with llama.cpp" section: how it was run, the issue's targets, then per
 * model the thread probe and one table (rows: our caches beside the llama.cpp type they are compared with; cells
 * "ours / llama.cpp (ratio ours/llama.cpp)").
 */
export function renderPeerReport(results: readonly ModelResults[], info: RunInfo): string {
  const lines: string[] = [];
  const loads = results.flatMap((r) => [...r.probes, ...r.runs]).map((r) => r.loadAverage);
  lines.push(
    `Run of ${info.date}: \`npm run bench:peer -- ${info.suites.join(" ")}\` (${info.minutes.toFixed(1)} min; ` +
      `1-min load average ${loads.length > 0 ? `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}` : "n/a"} on 2 cores). ` +
      `Peer: ${info.peerPackages.join(", ")} (llama.cpp's prebuilt CPU binary, flash attention on, file memory-mapped).`,
    "",
    "### Targets",
    "",
    "| target | measured | met |",
    "| --- | --- | --- |",
    ...judgeTargets(results).map((t) => `| ${t.target} | ${t.measured} | ${t.met === null ? "n/a" : t.met ? "yes" : "**no**"} |`),
  );
  for (const model of results) lines.push("", ...renderModel(model));
  return lines.join("\n");
}

function renderModel(model: ModelResults): string[] {
  const lengths = [...new Set(model.runs.flatMap((r) => (r.outcome.ok ? r.outcome.measurement.points.map((p) => p.contextTokens) : [])))].sort((a, b) => a - b);
  const lines = [`### ${model.model.label} (\`${model.suite}\`)`, "", threadLine(model), ""];
  const header = ["our cache", "llama.cpp", "prefill tok/s", ...lengths.map((l) => `decode tok/s L=${l}`), "KV bytes at longest L", "peak RSS MiB", "same next token"];
  lines.push(`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`);
  for (const ours of model.runs.filter((r) => r.job.engine === "qaq")) {
    const peerCache = PEER_CACHE_FOR[ours.job.cache] ?? "-";
    const peer = model.runs.find((r) => r.job.engine === "llama.cpp" && r.job.cache === peerCache);
    lines.push(`| ${[ours.job.cache, peerCache, ...rowCells(ours, peer, lengths)].join(" | ")} |`);
  }
  for (const failed of model.runs.filter((r) => !r.outcome.ok)) {
    lines.push("", `- ${failed.job.engine} ${failed.job.cache} failed: ${failed.outcome.ok ? "" : failed.outcome.error}`);
  }
  for (const skip of model.skipped) lines.push("", `- ours ${skip.cache} skipped: ${skip.reason}`);
  const peerBase = measurementOf(model, "llama.cpp", PEER_BASELINE_CACHE);
  const internal = peerBase?.points[0]?.internalDecodeTokensPerSecond;
  if (peerBase && internal != null) {
    lines.push(
      "",
      `- llama.cpp ${PEER_BASELINE_CACHE} at L=${peerBase.points[0]!.contextTokens}: ${fmt(peerBase.points[0]!.decodeTokensPerSecond)} tok/s timed ` +
        `from JS (as ours is), ${fmt(internal)} tok/s by llama.cpp's own eval timer over the same steps (without node-llama-cpp's ` +
        "per-call work; per-token JSON has it for every point).",
    );
  }
  return lines;
}

function threadLine(model: ModelResults): string {
  const describe = (engine: JobRecord["job"]["engine"], cache: string): string => {
    const speeds = model.probes
      .filter((p) => p.job.engine === engine)
      .map((p) => `${p.job.threads}T ${p.outcome.ok ? `${fmt(p.outcome.measurement.points.at(-1)!.decodeTokensPerSecond)}` : "failed"}`);
    return `${engine} ${cache} ${speeds.join(", ")} -> ${model.chosenThreads[engine]} thread(s)`;
  };
  const probeLength = model.probes.find((p) => p.outcome.ok && p.outcome.measurement.points.length > 0);
  const at = probeLength?.outcome.ok ? ` at L=${probeLength.outcome.measurement.points.at(-1)!.contextTokens}` : "";
  return `Thread probe (decode tok/s${at}): ${describe("qaq", OUR_BASELINE_CACHE)}; ${describe("llama.cpp", PEER_BASELINE_CACHE)}.`;
}

function rowCells(ours: JobRecord, peer: JobRecord | undefined, lengths: readonly number[]): string[] {
  const a = ours.outcome.ok ? ours.outcome.measurement : undefined;
  const b = peer?.outcome.ok ? peer.outcome.measurement : undefined;
  const decodeAt = (m: JobMeasurement | undefined, length: number): number | undefined =>
    m?.points.find((p) => p.contextTokens === length)?.decodeTokensPerSecond;
  const longest = a?.points.at(-1);
  const peerAtLongest = b?.points.find((p) => p.contextTokens === longest?.contextTokens);
  const rss = (r: JobRecord | undefined): number | undefined => (r?.outcome.ok ? r.outcome.peakRssBytes / 2 ** 20 : undefined);
  const agree = a && b ? (a.nextTokenAfterPrefill === b.nextTokenAfterPrefill ? "yes" : `no (${a.nextTokenAfterPrefill} / ${b.nextTokenAfterPrefill})`) : "-";
  return [
    pair(a?.prefillTokensPerSecond, b?.prefillTokensPerSecond),
    ...lengths.map((l) => pair(decodeAt(a, l), decodeAt(b, l))),
    `${longest ? bytes(longest.kvBytes) : "-"} / ${peerAtLongest ? bytes(peerAtLongest.kvBytes) : "-"}`,
    `${rss(ours) !== undefined ? rss(ours)!.toFixed(0) : "-"} / ${rss(peer) !== undefined ? rss(peer)!.toFixed(0) : "-"}`,
    agree,
  ];
}

/** "ours / peer (ratio)" with "-" for a missing side. */
export function pair(ours: number | undefined, peer: number | undefined): string {
  const ratio = ours !== undefined && peer !== undefined && peer > 0 ? ` (${(ours / peer).toFixed(2)}x)` : "";
  return `${ours !== undefined ? fmt(ours) : "-"} / ${peer !== undefined ? fmt(peer) : "-"}${ratio}`;
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function bytes(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

/**
 * docs/PERFORMANCE.md holds several sections written by different benchmarks. This one owns only the text between
 * its two markers: a run replaces that text and leaves everything else (other sections, and the hand-written
 * reading below the end marker) as it was. Without the markers, the section is appended.
 */
export const SECTION_BEGIN = "<!-- bench:peer begin: generated by `npm run bench:peer`, edits between the markers are overwritten -->";
export const SECTION_END = "<!-- bench:peer end -->";
export const SECTION_HEADING = "## Side by side with llama.cpp (`npm run bench:peer`)";

const DOC_PATH = fileURLToPath(new URL("../../../../docs/PERFORMANCE.md", import.meta.url));

export function replacePeerSection(doc: string, generated: string): string {
  const block = `${SECTION_BEGIN}\n${generated.trim()}\n${SECTION_END}`;
  const begin = doc.indexOf(SECTION_BEGIN);
  const end = doc.indexOf(SECTION_END);
  if (begin >= 0 && end > begin) return doc.slice(0, begin) + block + doc.slice(end + SECTION_END.length);
  const base = doc.trim() === "" ? "# Performance\n" : doc.replace(/\s*$/, "\n");
  return `${base}\n${SECTION_HEADING}\n\n${block}\n`;
}

/** Writes this run's tables into docs/PERFORMANCE.md and returns the file's path. */
export function writePeerSection(results: readonly ModelResults[], info: Omit<RunInfo, "date">): string {
  const doc = existsSync(DOC_PATH) ? readFileSync(DOC_PATH, "utf8") : "";
  const generated = renderPeerReport(results, { ...info, date: new Date().toISOString().slice(0, 10) });
  writeFileSync(DOC_PATH, replacePeerSection(doc, generated));
  return DOC_PATH;
}
