/** A result line as a few human-readable lines (what `qaq eval` prints without --json). */
import type { ResultLine } from "./resultLine.js";
import type { TaskKind } from "./tasks/taskDefinition.js";

/** The metrics shown per task kind, in order; `withError` adds ± its _stderr; fp32 shows the reference beside it. */
const SHOWN: Readonly<Record<TaskKind, readonly { name: string; withError: boolean; fp32: boolean }[]>> = {
  choice: [
    { name: "acc", withError: true, fp32: true },
    { name: "acc_norm", withError: true, fp32: true },
    { name: "acc_mean", withError: true, fp32: true },
    { name: "agreement", withError: false, fp32: false },
    { name: "agreement_norm", withError: false, fp32: false },
    { name: "agreement_mean", withError: false, fp32: false },
    { name: "gold_loglik_delta", withError: true, fp32: false },
    { name: "kl", withError: true, fp32: false },
    { name: "top1", withError: false, fp32: false },
  ],
  perplexity: [
    { name: "ppl", withError: true, fp32: true },
    { name: "kl", withError: true, fp32: false },
    { name: "top1", withError: false, fp32: false },
  ],
  generation: [
    { name: "match_tokens", withError: true, fp32: true },
    { name: "full_match", withError: false, fp32: false },
  ],
};

export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "n/a";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  return magnitude >= 1e-3 && magnitude < 1e5 ? value.toFixed(magnitude < 10 ? 4 : 2) : value.toExponential(2);
}

export function formatResultSummary(line: ResultLine): string {
  const unit = line.taskKind === "perplexity" ? "tokens" : "items";
  const head = `${line.task}: ${line.items} ${unit}, ${line.scoring} scoring, protocol ${line.protocol}, kv ${line.spec}` + (line.runSpec !== line.spec ? ` (run as ${line.runSpec})` : "") + (line.partial ? " (partial: interrupted)" : "");
  const metrics = SHOWN[line.taskKind].map(({ name, withError, fp32 }) => {
    const error = withError ? ` ± ${formatNumber(line.metrics[`${name}_stderr`])}` : "";
    const reference = fp32 ? ` (fp32 ${formatNumber(line.fp32[name])})` : "";
    return `  ${name.padEnd(18)} ${formatNumber(line.metrics[name])}${error}${reference}`;
  });
  const c = line.cache;
  const memory =
    `  cache              ${Math.round(c.meanHotBytes)} bytes mean over ${c.samples} samples, ${formatNumber(c.bitsPerValue)} bits/value, ` +
    `${formatNumber(c.ratioVsFp16)}x vs fp16 measured, ${formatNumber(c.paperRatio)}x paper` +
    (c.meanBackingBytes > 0 ? `, backing tier ${Math.round(c.meanBackingBytes)} bytes apart` : "") +
    (c.meanSlackBytes > 0 ? `, spare capacity ${Math.round(c.meanSlackBytes)} bytes apart` : "");
  return [head, ...metrics, memory, `  time               ${line.seconds.toFixed(2)} s`].join("\n");
}
