/**
 * The quality measures the report ranks and plots, per task kind. Each reads a value from a result line, may define
 * a loss against the fp32 cache on the same items (for "the largest compression with < 1% quality loss"), and says
 * which direction is better. For multiple choice, `acc` follows the line's scoring (acc for lm-eval, the per-token
 * mean for the paper's).
 */
import type { ResultLine } from "../resultLine.js";
import type { TaskKind } from "../tasks/taskDefinition.js";

export interface QualityView {
  readonly id: string;
  readonly kind: TaskKind;
  readonly label: string;
  readonly better: "higher" | "lower";
  readonly logScale: boolean;
  /** true for the measures that carry signal even when the model is near chance */
  readonly signal: boolean;
  /** drawn as a keys-only vs values-only curve (the paper's Figure 2a) */
  readonly figure2a: boolean;
  value(line: ResultLine): number;
  /** the fp32 cache's value on the same items */
  fp32(line: ResultLine): number;
  /** quality lost vs fp32 (a fraction: 0.01 = 1%); null for measures without a loss form (not in Table 1) */
  readonly loss: ((line: ResultLine) => number) | null;
}

const accuracyName = (line: ResultLine) => (line.scoring === "paper" ? "acc_mean" : "acc");
const agreementName = (line: ResultLine) => (line.scoring === "paper" ? "agreement_mean" : "agreement");

export const QUALITY_VIEWS: readonly QualityView[] = [
  {
    id: "ppl",
    kind: "perplexity",
    label: "perplexity",
    better: "lower",
    logScale: true,
    figure2a: true,
    signal: true,
    value: (l) => l.metrics["ppl"]!,
    fp32: (l) => l.fp32["ppl"]!,
    loss: (l) => l.metrics["ppl"]! / l.fp32["ppl"]! - 1,
  },
  {
    id: "agreement",
    kind: "choice",
    label: "answer agreement with fp32",
    better: "higher",
    logScale: false,
    figure2a: true,
    signal: true,
    value: (l) => l.metrics[agreementName(l)]!,
    fp32: () => 1,
    loss: (l) => 1 - l.metrics[agreementName(l)]!,
  },
  {
    id: "kl",
    kind: "perplexity",
    label: "KL(fp32 ‖ cache), nats/token",
    better: "lower",
    logScale: true,
    figure2a: false,
    signal: true,
    value: (l) => l.metrics["kl"]!,
    fp32: () => 0,
    loss: null,
  },
  {
    id: "kl",
    kind: "choice",
    label: "KL(fp32 ‖ cache) on choice tokens, nats/token",
    better: "lower",
    logScale: true,
    figure2a: false,
    signal: true,
    value: (l) => l.metrics["kl"]!,
    fp32: () => 0,
    loss: null,
  },
  {
    id: "acc",
    kind: "choice",
    label: "accuracy",
    better: "higher",
    logScale: false,
    figure2a: true,
    signal: false,
    value: (l) => l.metrics[accuracyName(l)]!,
    fp32: (l) => l.fp32[accuracyName(l)]!,
    // absolute points, as the paper's "< 1% accuracy drop"
    loss: (l) => l.fp32[accuracyName(l)]! - l.metrics[accuracyName(l)]!,
  },
  {
    id: "match",
    kind: "generation",
    label: "greedy tokens before the first divergence",
    better: "higher",
    logScale: false,
    figure2a: true,
    signal: true,
    value: (l) => l.metrics["match_tokens"]!,
    fp32: (l) => l.fp32["match_tokens"]!,
    loss: (l) => 1 - l.metrics["match_tokens"]! / l.fp32["match_tokens"]!,
  },
];

export function viewsFor(kind: TaskKind): QualityView[] {
  return QUALITY_VIEWS.filter((v) => v.kind === kind);
}
