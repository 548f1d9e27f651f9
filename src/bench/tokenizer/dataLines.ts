/**
 * The texts of the shared evaluation data, one entry per line: TinyStories and WikiText-2 line by line, and every
 * string field of every PIQA / HellaSwag / MathQA item (each item is one line of JSON; its fields are the texts a
 * model would be given). Used to check the tokenizers against independent implementations.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../util/rng.js";

export interface DataLine {
  /** "<data set>:<line or item>.<field>", for messages. */
  readonly where: string;
  readonly text: string;
}

const TEXT_FILES = [
  ["tinystories", "tinystories/tinystories_val_head.txt"],
  ["wikitext2", "wikitext2/wiki.test.raw"],
] as const;
const JSONL_FILES = [
  ["piqa", "piqa/valid_first1000.jsonl"],
  ["hellaswag", "hellaswag/val_first1000.jsonl"],
] as const;
const JSON_ARRAY_FILES = [["mathqa", "mathqa/test_first1000.json"]] as const;

export const DATA_SETS = [...TEXT_FILES, ...JSONL_FILES, ...JSON_ARRAY_FILES].map(([name]) => name);

/** True when every data file is present under `dataDir` (../shared/data). */
export function dataPresent(dataDir: string): boolean {
  return [...TEXT_FILES, ...JSONL_FILES, ...JSON_ARRAY_FILES].every(([, file]) => existsSync(join(dataDir, file)));
}

/** Every line of every data set, in file order. */
export function readDataLines(dataDir: string): DataLine[] {
  const lines: DataLine[] = [];
  for (const [name, file] of TEXT_FILES) {
    readFileSync(join(dataDir, file), "utf8").split("\n").forEach((text, i) => lines.push({ where: `${name}:${i + 1}`, text }));
  }
  const addItem = (name: string, index: number, item: unknown): void => {
    for (const [field, text] of stringFields(item, "")) lines.push({ where: `${name}:${index + 1}${field}`, text });
  };
  for (const [name, file] of JSONL_FILES) {
    const rows = readFileSync(join(dataDir, file), "utf8").split("\n").filter((row) => row.trim() !== "");
    rows.forEach((row, i) => addItem(name, i, JSON.parse(row)));
  }
  for (const [name, file] of JSON_ARRAY_FILES) {
    (JSON.parse(readFileSync(join(dataDir, file), "utf8")) as unknown[]).forEach((item, i) => addItem(name, i, item));
  }
  return lines;
}

/** [".field", text] for every string inside `value` (arrays give ".endings[2]"-style paths). */
function stringFields(value: unknown, path: string): [string, string][] {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringFields(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, v]) => stringFields(v, `${path}.${key}`));
  }
  return [];
}

/** `count` lines drawn (with repeats possible) by the project's seeded generator: the same every run. */
export function seededSample<T>(items: readonly T[], count: number, seed: number): T[] {
  const rng = new Rng(seed);
  return Array.from({ length: Math.min(count, items.length) }, () => items[rng.nextU32() % items.length]!);
}
