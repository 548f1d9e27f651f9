/**
 * HellaSwag (Zellers et al. 2019), lm-eval's zero-shot form: context "{activity_label}: {ctx}", four choices
 * " {ending}", gold = label. Text goes through lm-eval's preprocess (strip, " [title]" -> ". ", drop other [..]
 * markup, collapse double spaces).
 *
 * Two record forms are read:
 *   upstream (rowanz/hellaswag hellaswag_val.jsonl, or the HF "Rowan/hellaswag" rows): ctx_a and ctx_b present;
 *     ctx = ctx_a + " " + capitalize(ctx_b), exactly as lm-eval builds it;
 *   the shipped subset (llama.cpp's text conversion): only ctx, already ctx_a + " " + ctx_b with ctx_b as written
 *     (not capitalised; see shared/data/ATTRIBUTION.md), used as it is.
 */
import { FileFormatError } from "../../util/errors.js";
import { parseJsonLines, readDataText, RecordReader } from "./dataFiles.js";
import type { ChoiceItem, ChoiceTask, DataSource } from "./taskDefinition.js";

const SOURCE: DataSource = {
  bundledPath: "hellaswag/val_first1000.jsonl",
  where: "https://github.com/rowanz/hellaswag (data/hellaswag_val.jsonl) or the Hugging Face dataset Rowan/hellaswag",
  format: 'JSON lines {"activity_label", "ctx" (or "ctx_a" and "ctx_b"), "endings": [4 strings], "label": 0..3}',
};

/** lm-eval's HellaSwag text clean-up. */
export function preprocessHellaswag(text: string): string {
  return text.trim().replaceAll(" [title]", ". ").replace(/\[.*?\]/g, "").replaceAll("  ", " ");
}

/** Python's str.capitalize: first character upper case, the rest lower case. */
function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

export function loadHellaswag(path: string): readonly ChoiceItem[] {
  const records = parseJsonLines(path, readDataText(path, "hellaswag", SOURCE));
  return records.map(({ line, value }) => {
    const r = new RecordReader(path, `line ${line}`, value);
    const ctx = r.has("ctx_a") && r.has("ctx_b") ? `${r.string("ctx_a")} ${capitalize(r.string("ctx_b"))}` : r.string("ctx");
    const endings = r.strings("endings");
    if (endings.length !== 4) throw new FileFormatError(path, `line ${line}: "endings" must hold 4 strings, has ${endings.length}`);
    const choiceTexts = endings.map(preprocessHellaswag);
    return {
      context: preprocessHellaswag(`${r.string("activity_label")}: ${ctx}`),
      continuations: choiceTexts.map((text) => ` ${text}`),
      choiceTexts,
      gold: r.goldIndex("label", endings.length),
    };
  });
}

export const HELLASWAG: ChoiceTask = {
  kind: "choice",
  name: "hellaswag",
  summary: "HellaSwag sentence completion (4 choices), lm-eval prompt",
  data: SOURCE,
  choiceCount: 4,
  load: loadHellaswag,
};
