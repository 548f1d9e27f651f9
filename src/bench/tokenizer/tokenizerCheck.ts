/**
 * The full tokenizer check and speed figures, as JSON lines on stdout (the test runs a seeded sample of the same):
 *   {"kind":"check", vocabulary, lines, identical, knownDeviations:[...], deviations:[...], roundTripFailures, oursMs, lenmlMs}
 *       every line of ../shared/data (tools/dataLines.ts) encoded by us and by @lenml/tokenizers (dev dependency);
 *   {"kind":"speed", tokenizer, text, chars, tokens, ms, tokensPerSecond}
 *       encoding the TinyStories file line by line (cache warm after the first lines, as in real use) and the same
 *       as one string, for the four byte-level vocabularies and SentencePiece (stories260K's tok512);
 *   {"kind":"scaling", tokenizer, text, chars, ms, msPerChar}
 *       pathological single words of growing length (spaces, letters, digits): time per character must stay flat.
 *
 *   npm run build && node dist/src/bench/tokenizer/tokenizerCheck.js [--no-check]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tokenizerFromLlama2cFile } from "../../tokenizer/loadTokenizer.js";
import type { Tokenizer } from "../../tokenizer/Tokenizer.js";
import { readDataLines } from "./dataLines.js";
import { lenmlDeviatesOn } from "./knownDeviations.js";
import { convertReference, readReferenceFiles, REFERENCE_VOCABULARIES, tokenizerFromConverted } from "./referenceVocabularies.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const dataDir = join(root, "..", "shared", "data");
const storiesPath = join(dataDir, "tinystories", "tinystories_val_head.txt");
const tok512Path = join(root, "models", "stories260K", "tok512.bin");

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function speed(name: string, tokenizer: Tokenizer, stories: string): void {
  for (const [label, texts] of [["tinystories lines", stories.split("\n")], ["tinystories whole", [stories]]] as const) {
    const start = performance.now();
    let tokens = 0;
    for (const text of texts) tokens += tokenizer.encode(text, { addBos: false }).length;
    const ms = performance.now() - start;
    emit({ kind: "speed", tokenizer: name, text: label, chars: stories.length, tokens, ms: Math.round(ms), tokensPerSecond: Math.round(tokens / (ms / 1000)) });
  }
}

function scaling(name: string, tokenizer: Tokenizer): void {
  for (const [label, unit] of [["spaces", " "], ["letters", "a"], ["digits", "7"]] as const) {
    for (const chars of [25_000, 50_000, 100_000]) {
      const text = `x${unit.repeat(chars)}x`;
      const start = performance.now();
      tokenizer.encode(text, { addBos: false });
      const ms = performance.now() - start;
      emit({ kind: "scaling", tokenizer: name, text: label, chars, ms: Math.round(ms), msPerChar: Number((ms / chars).toFixed(5)) });
    }
  }
}

async function main(): Promise<void> {
  const check = !process.argv.includes("--no-check");
  const stories = readFileSync(storiesPath, "utf8");
  const lines = check ? readDataLines(dataDir) : [];
  // A dev dependency: imported only here, never by the engine.
  const { TokenizerLoader } = check ? await import("@lenml/tokenizers") : { TokenizerLoader: undefined };
  for (const name of REFERENCE_VOCABULARIES) {
    const files = readReferenceFiles(root, name);
    const ours = tokenizerFromConverted(convertReference(files), name);
    if (check && TokenizerLoader !== undefined) {
      const reference = TokenizerLoader.fromPreTrained({ tokenizerJSON: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig });
      let identical = 0;
      let roundTripFailures = 0;
      const knownDeviations: string[] = [];
      const deviations: string[] = [];
      let oursMs = 0;
      let theirsMs = 0;
      for (const { where, text } of lines) {
        const t0 = performance.now();
        const ids = ours.encode(text, { addBos: false, parseSpecial: true });
        const t1 = performance.now();
        const theirs = reference.encode(text, { add_special_tokens: false });
        oursMs += t1 - t0;
        theirsMs += performance.now() - t1;
        if (ids.length === theirs.length && ids.every((id, i) => id === theirs[i])) identical++;
        else (lenmlDeviatesOn(name, text) ? knownDeviations : deviations).push(where);
        if (ours.decode(ids, { special: true }) !== (name === "qwen3" ? text.normalize("NFC") : text)) roundTripFailures++;
      }
      // knownDeviations: lines where @lenml's JavaScript regex semantics differ (knownDeviations.ts); deviations: the rest
      emit({
        kind: "check",
        vocabulary: name,
        lines: lines.length,
        identical,
        knownDeviations,
        deviations: deviations.slice(0, 20),
        roundTripFailures,
        // encoding time of all lines, ours and @lenml's, in this run (their ratio is the meaningful figure)
        oursMs: Math.round(oursMs),
        lenmlMs: Math.round(theirsMs),
      });
    }
    speed(name, ours, stories);
    scaling(name, ours);
  }
  const sentencePiece = tokenizerFromLlama2cFile(tok512Path);
  speed("sentencepiece tok512", sentencePiece, stories);
  scaling("sentencepiece tok512", sentencePiece);
}

await main();
