/** Synthetic result lines for the report's tests: only the fields the report reads are meaningful. */
import type { ResultLine } from "../../src/eval/resultLine.js";
import type { TaskKind } from "../../src/eval/tasks/taskDefinition.js";

export interface SyntheticRun {
  readonly task: string;
  readonly kind: TaskKind;
  readonly spec: string;
  readonly protocol?: "prompt" | "stream";
  readonly ratio: number;
  readonly paperRatio?: number;
  readonly metrics: Record<string, number>;
  readonly fp32: Record<string, number>;
}

export function syntheticLine(run: SyntheticRun): ResultLine {
  const protocol = run.protocol ?? "prompt";
  return {
    key: `${run.task}|${protocol}|${run.spec}`,
    version: "test",
    model: "/models/tiny.bin",
    task: run.task,
    taskKind: run.kind,
    data: `/data/${run.task}.jsonl`,
    items: 100,
    limit: 100,
    seed: 0,
    scoring: "lm-eval",
    ctx: null,
    protocol,
    spec: run.spec,
    runSpec: run.spec,
    cache: {
      spec: run.spec,
      samples: 100,
      meanTokens: 100,
      meanHotBytes: 1000,
      meanCodesBytes: 800,
      meanMetadataBytes: 200,
      meanOutlierBytes: 0,
      meanResidualBytes: 0,
      meanBackingBytes: 0,
      meanSlackBytes: 0,
      peakHotBytes: 1000,
      bitsPerValue: 16 / run.ratio,
      ratioVsFp16: run.ratio,
      paperBitsPerValue: 16 / (run.paperRatio ?? run.ratio),
      paperRatio: run.paperRatio ?? run.ratio,
    },
    metrics: run.metrics,
    fp32: run.fp32,
    seconds: 1,
    threads: 1,
    finishedAt: "2024-01-01T00:00:00.000Z",
  };
}
