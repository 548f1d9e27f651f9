// Byte-level BPE against independent implementations, on vocabularies converted from the tokenizer.json files npm
// packages ship (bench/tokenizer/referenceVocabularies.ts):
//   - @lenml/tokenizers (a JavaScript port of Hugging Face tokenizers) on every hard case and on a seeded sample
//     of the shared data (the full data check is `node dist/src/bench/tokenizer/tokenizerCheck.js`);
//   - llama.cpp's ids for the hard cases, stored in test/fixtures/tokenizer/llama-cpp-tokens.json by
//     `node dist/src/bench/tokenizer/llamaCppTokens.js` (no peer needed here).
// Where one reference is known to be wrong (knownDeviations.ts) the case is held to the other one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { TokenizerLoader } from "@lenml/tokenizers";
import { PROJECT_ROOT, SHARED } from "../support/paths.js";
import { dataPresent, readDataLines, seededSample } from "../../src/bench/tokenizer/dataLines.js";
import { readHardCases, readLlamaCppTokens } from "../../src/bench/tokenizer/hardCases.js";
import { isDeviation, lenmlDeviatesOn, LENML_DEVIATIONS, LLAMA_CPP_DEVIATIONS } from "../../src/bench/tokenizer/knownDeviations.js";
import {
  convertReference,
  readReferenceFiles,
  REFERENCE_VOCABULARIES,
  tokenizerFromConverted,
} from "../../src/bench/tokenizer/referenceVocabularies.js";

const DATA_DIR = join(SHARED, "data");
/** Data lines per vocabulary in `npm test` (seeded, the same every run); the script checks all 29019. */
const SAMPLED_LINES = 400;

const cases = readHardCases(PROJECT_ROOT);
const llamaCpp = readLlamaCppTokens(PROJECT_ROOT);

for (const name of REFERENCE_VOCABULARIES) {
  test(`${name}: hard cases and sampled data lines equal @lenml/tokenizers and llama.cpp`, { timeout: 120_000 }, () => {
    const files = readReferenceFiles(PROJECT_ROOT, name);
    const ours = tokenizerFromConverted(convertReference(files), name);
    const reference = TokenizerLoader.fromPreTrained({ tokenizerJSON: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig });
    const lenml = (text: string): number[] => reference.encode(text, { add_special_tokens: false });
    const stored = llamaCpp.vocabularies[name];
    assert.ok(stored !== undefined && stored.length === cases.length, `${name}: llama-cpp-tokens.json is stale; rerun its command`);

    cases.forEach(({ name: caseName, text }, i) => {
      assert.equal(stored[i]!.name, caseName, "llama-cpp-tokens.json is stale; rerun its command");
      const plain = [...ours.encode(text, { addBos: false, addEos: false })];
      const special = [...ours.encode(text, { addBos: false, addEos: false, parseSpecial: true })];
      const label = `${name} / ${caseName}`;
      // Hugging Face always cuts added tokens out of text, which is our special-parsing mode.
      // A listed deviation must still happen (else the list is stale) and the other reference must agree with us.
      const lenmlDeviates = isDeviation(LENML_DEVIATIONS, name, caseName);
      const llamaCppDeviates = isDeviation(LLAMA_CPP_DEVIATIONS, name, caseName);
      assert.ok(!(lenmlDeviates && llamaCppDeviates), `${label}: held to neither reference`);
      if (lenmlDeviates) assert.notDeepEqual(special, lenml(text), `${label}: listed as an @lenml deviation but equal`);
      else assert.deepEqual(special, lenml(text), `${label} vs @lenml`);
      if (llamaCppDeviates) {
        const same = JSON.stringify([plain, special]) === JSON.stringify([stored[i]!.plain, stored[i]!.special]);
        assert.ok(!same, `${label}: listed as a llama.cpp deviation but equal`);
      } else {
        assert.deepEqual(plain, stored[i]!.plain, `${label} vs llama.cpp, plain`);
        assert.deepEqual(special, stored[i]!.special, `${label} vs llama.cpp, special`);
      }
      // Round trip: decoding gives the text back (Qwen's as NFC; a lone surrogate as U+FFFD, like TextEncoder).
      const expected = (name === "qwen3" ? text.normalize("NFC") : text).replace(/\p{Cs}/gu, "\ufffd");
      assert.equal(ours.decode(special, { special: true }), expected, `${label} round trip`);
      assert.equal(ours.decode(plain), expected, `${label} round trip, plain`);
    });

    if (!dataPresent(DATA_DIR)) return;
    for (const { where, text } of seededSample(readDataLines(DATA_DIR), SAMPLED_LINES, 13)) {
      const ids = [...ours.encode(text, { addBos: false, parseSpecial: true })];
      if (!lenmlDeviatesOn(name, text)) assert.deepEqual(ids, lenml(text), `${name} / ${where} vs @lenml`);
      assert.equal(ours.decode(ids, { special: true }), name === "qwen3" ? text.normalize("NFC") : text, `${name} / ${where} round trip`);
    }
  });
}
