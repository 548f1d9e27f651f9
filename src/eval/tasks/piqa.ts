/**
 * PIQA (Bisk et al. 2020), lm-eval's form: context "Question: {goal}\nAnswer:", choices " {sol1}" and " {sol2}".
 *
 * Upstream ships the questions (valid.jsonl: {goal, sol1, sol2}) and the answers (valid-labels.lst: one 0/1 per
 * line) in two files; the labels file is found beside the data file by replacing ".jsonl" with "-labels.lst". Records
 * that carry their own "label" field (the Hugging Face "piqa" rows) need no labels file.
 */
import { existsSync } from "node:fs";
import { FileFormatError } from "../../util/errors.js";
import { parseJsonLines, readDataText, RecordReader } from "./dataFiles.js";
import type { ChoiceItem, ChoiceTask, DataSource } from "./taskDefinition.js";

const SOURCE: DataSource = {
  bundledPath: "piqa/valid_first1000.jsonl",
  where: "https://yonatanbisk.com/piqa/ (valid.jsonl + valid-labels.lst) or the Hugging Face dataset ybisk/piqa",
  format: 'JSON lines {"goal", "sol1", "sol2"} with the answers either in a "label" field (0/1) or in a file beside it named <name>-labels.lst (one 0/1 per line)',
};

/** The labels file upstream puts beside valid.jsonl. */
export function piqaLabelsPath(dataPath: string): string {
  return dataPath.endsWith(".jsonl") ? `${dataPath.slice(0, -".jsonl".length)}-labels.lst` : `${dataPath}-labels.lst`;
}

export function loadPiqa(path: string): readonly ChoiceItem[] {
  const records = parseJsonLines(path, readDataText(path, "piqa", SOURCE));
  const labels = records.every(({ value }) => typeof value === "object" && value !== null && Object.hasOwn(value, "label"))
    ? undefined
    : readLabels(piqaLabelsPath(path), records.length);
  return records.map(({ line, value }, index) => {
    const r = new RecordReader(path, `line ${line}`, value);
    const choiceTexts = [r.string("sol1"), r.string("sol2")];
    return {
      context: `Question: ${r.string("goal")}\nAnswer:`,
      continuations: choiceTexts.map((text) => ` ${text}`),
      choiceTexts,
      gold: labels ? labels[index]! : r.goldIndex("label", 2),
    };
  });
}

function readLabels(path: string, count: number): number[] {
  if (!existsSync(path)) {
    throw new FileFormatError(path, `PIQA answers not found: the records have no "label" field, so this labels file (one 0/1 per line, upstream valid-labels.lst) must sit beside the data file`);
  }
  const lines = readDataText(path, "piqa", SOURCE).split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length !== count) throw new FileFormatError(path, `holds ${lines.length} labels for ${count} questions`);
  return lines.map((label, i) => {
    if (label !== "0" && label !== "1") throw new FileFormatError(path, `line ${i + 1}: a label must be 0 or 1, got "${label}"`);
    return Number(label);
  });
}

export const PIQA: ChoiceTask = {
  kind: "choice",
  name: "piqa",
  summary: "PIQA physical commonsense (2 choices), lm-eval prompt",
  data: SOURCE,
  choiceCount: 2,
  load: loadPiqa,
};
