/**
 * The paper's Table 1 form: for each method and task, the largest compression whose quality loss against the fp32
 * cache stays below a threshold (1%). Compression is the measured ratio vs fp16 (the headline); the paper's
 * bits-only ratio of the same run is carried along. Point estimates decide: with few items the loss is noisy, and
 * the report says so.
 */
import type { EvalProtocol } from "../protocol/evalProtocol.js";
import type { ResultLine } from "../resultLine.js";
import { methodOf } from "./methods.js";
import type { QualityView } from "./qualityViews.js";

export interface Table1Cell {
  readonly spec: string;
  readonly setting: string;
  readonly ratio: number;
  readonly paperRatio: number;
  readonly loss: number;
}

export interface Table1 {
  readonly methods: readonly string[];
  readonly tasks: readonly string[];
  /** method -> task -> the best run within the threshold, null when the method ran but none stayed within it */
  readonly cells: ReadonlyMap<string, ReadonlyMap<string, Table1Cell | null>>;
}

export function buildTable1(lines: readonly ResultLine[], view: QualityView, protocol: EvalProtocol, threshold: number): Table1 {
  const methods: string[] = [];
  const tasks: string[] = [];
  const cells = new Map<string, Map<string, Table1Cell | null>>();
  for (const line of lines) {
    if (line.protocol !== protocol || line.taskKind !== view.kind) continue;
    const { method, setting } = methodOf(line.spec);
    if (!cells.has(method)) {
      cells.set(method, new Map());
      methods.push(method);
    }
    if (!tasks.includes(line.task)) tasks.push(line.task);
    const row = cells.get(method)!;
    const loss = view.loss === null ? Number.NaN : view.loss(line);
    const best = row.get(line.task) ?? null;
    if (!(loss < threshold)) {
      if (!row.has(line.task)) row.set(line.task, null);
      continue;
    }
    const cell = { spec: line.spec, setting, ratio: line.cache.ratioVsFp16, paperRatio: line.cache.paperRatio, loss };
    if (best === null || cell.ratio > best.ratio || (cell.ratio === best.ratio && cell.paperRatio > best.paperRatio)) row.set(line.task, cell);
  }
  return { methods, tasks, cells };
}
