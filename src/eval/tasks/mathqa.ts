/**
 * MathQA (Amini et al. 2019), lm-eval's form: context "Question: {Problem}\nAnswer:", five choices " {option}" parsed
 * from `options` ("a ) 38 , b ) 27.675 , c ) 30 , d ) data inadequate , e ) none of these") with lm-eval's rule: the
 * matches of /[abcd] \) .*?, |e \) .*?$/, minus their "x ) " prefix and trailing " ,". Gold = "abcde".indexOf(correct).
 * Upstream test.json is one JSON array; JSON lines of the same records are read too.
 */
import { FileFormatError } from "../../util/errors.js";
import { parseJsonArray, parseJsonLines, readDataText, RecordReader } from "./dataFiles.js";
import type { ChoiceItem, ChoiceTask, DataSource } from "./taskDefinition.js";

const SOURCE: DataSource = {
  bundledPath: "mathqa/test_first1000.json",
  where: "https://math-qa.github.io/ (MathQA.zip: test.json) or the Hugging Face dataset allenai/math_qa",
  format: 'a JSON array (or JSON lines) of {"Problem", "options": "a ) .. , b ) .. , c ) .. , d ) .. , e ) ..", "correct": "a".."e"}',
};

const LETTERS = "abcde";

/** The five option texts of a MathQA `options` string (lm-eval's parse). */
export function parseMathqaOptions(options: string): string[] {
  return [...options.matchAll(/[abcd] \) .*?, |e \) .*?$/g)].map((m) => m[0].slice(4).replace(/[ ,]+$/, ""));
}

export function loadMathqa(path: string): readonly ChoiceItem[] {
  const text = readDataText(path, "mathqa", SOURCE);
  const records = text.trimStart().startsWith("[") ? parseJsonArray(path, text) : parseJsonLines(path, text);
  return records.map(({ line, value }) => {
    const where = `record ${line}`;
    const r = new RecordReader(path, where, value);
    const choiceTexts = parseMathqaOptions(r.string("options"));
    if (choiceTexts.length !== LETTERS.length) {
      throw new FileFormatError(path, `${where}: "options" must list a ) .. e ), found ${choiceTexts.length} options`);
    }
    const gold = LETTERS.indexOf(r.string("correct").trim());
    if (gold < 0) throw r.problem("correct", 'one of "a".."e"');
    return {
      context: `Question: ${r.string("Problem")}\nAnswer:`,
      continuations: choiceTexts.map((option) => ` ${option}`),
      choiceTexts,
      gold,
    };
  });
}

export const MATHQA: ChoiceTask = {
  kind: "choice",
  name: "mathqa",
  summary: "MathQA math word problems (5 choices), lm-eval prompt",
  data: SOURCE,
  choiceCount: 5,
  load: loadMathqa,
};
