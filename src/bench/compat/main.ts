/**
 * `npm run compat`: every compatibility case (compatCases.ts) written by this project's GGUF writer, run by llama.cpp
 * (node-llama-cpp, installed on demand outside the project) and by this engine on the same token ids:
 *   - the text (TinyStories) is tokenized by our tokenizer from the case's file, and llama.cpp's tokenization of it
 *     must be the same ids; for the real vocabularies (Llama 3, Qwen) so must llama.cpp's tokenization of every
 *     hard case (tokenizationCheck.ts);
 *   - next-token probabilities after every one of the text's first 256 tokens, compared over the whole vocabulary:
 *     the largest absolute difference must be <= 1e-3;
 *   - 64 greedy tokens after the text's first 8 tokens must be the same; the smallest top-1/top-2 logit margin is
 *     reported (a near-tie would make the agreement luck).
 * Quantized-weight cases (q8_0) are held to their own quantization effect instead (compatCases.ts).
 * Writes one JSON line per case on stdout, docs/COMPATIBILITY.md, and test/compat/llamacpp-expectations.json (what
 * the test that runs without llama.cpp checks). Exits 1 when a case fails.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AtomicFileWriter } from "../../platform/node/AtomicFileWriter.js";
import { loadModelFile } from "../../format/modelFile.js";
import { tokenizerFromGgufVocabulary } from "../../tokenizer/loadTokenizer.js";
import { FileFormatError } from "../../util/errors.js";
import { ensurePeerInstalled, peerDirectory } from "../peer/peerInstall.js";
import { readHardCases } from "../tokenizer/hardCases.js";
import {
  COMPAT_CASES,
  COMPAT_CONTEXT,
  COMPAT_QUANTIZED_CASES,
  COMPAT_TEXT_CHARS,
  COMPAT_TEXT_FILE,
  GREEDY_PROMPT,
  GREEDY_STEPS,
  isRealVocabulary,
  TEXT_TOKENS,
} from "./compatCases.js";
import { writeCompatModel } from "./compatModel.js";
import { expectationFrom, PROBABILITY_TOLERANCE, type CaseExpectation } from "./expectations.js";
import { openLlamaCpp } from "./llamaCppProbe.js";
import { probeOurs } from "./ourProbe.js";
import { maxOf, type ProbeResult } from "./probe.js";
import { hardCaseAgreement, textAgreement } from "./tokenizationCheck.js";
import { compatibilityMarkdown, type CaseOutcome } from "./compatReport.js";

const THREADS = 2;

const root = fileURLToPath(new URL("../../../../", import.meta.url));
export const EXPECTATIONS_PATH = "test/compat/llamacpp-expectations.json";
const REPORT_PATH = "docs/COMPATIBILITY.md";
const COMMAND = "npm run compat";
const KEPT_MARKER = "<!-- K-quant rows:";

async function main(): Promise<void> {
  const textPath = join(root, COMPAT_TEXT_FILE);
  let text: string;
  try {
    text = readFileSync(textPath, "utf8").slice(0, COMPAT_TEXT_CHARS);
  } catch (error) {
    throw new FileFormatError(textPath, `cannot read the text (${error instanceof Error ? error.message : String(error)})`);
  }
  const hardCases = readHardCases(root);
  const only = process.argv.slice(2);
  const install = ensurePeerInstalled(peerDirectory());
  const peer = await openLlamaCpp(install.dir, THREADS);
  const dir = mkdtempSync(join(tmpdir(), "qaq-compat-"));
  const outcomes: CaseOutcome[] = [];
  const expectations: CaseExpectation[] = [];
  const f32Runs = new Map<string, { ours: ProbeResult; theirs: ProbeResult }>();
  try {
    for (const c of [...COMPAT_CASES, ...COMPAT_QUANTIZED_CASES]) {
      if (only.length > 0 && !only.includes(c.id)) continue;
      const path = join(dir, `${c.id}.gguf`);
      await writeCompatModel(path, c);
      const sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
      const file = await loadModelFile(path);
      const tokenizer = tokenizerFromGgufVocabulary(file.vocabulary!, path);
      const textCheck = await textAgreement(peer, path, tokenizer, text);
      const hard = isRealVocabulary(c.vocabulary) ? await hardCaseAgreement(peer, path, tokenizer, c.vocabulary, hardCases) : undefined;
      // our ids, with BOS when the model's tokenizer adds it (SentencePiece, Llama 3; not Qwen)
      const textTokens = [...tokenizer.encode(text, { addEos: false })].slice(0, TEXT_TOKENS);
      if (textTokens.length < TEXT_TOKENS) throw new FileFormatError(textPath, `gives only ${textTokens.length} tokens with ${c.id}'s vocabulary`);
      const input = { textTokens, greedyPrompt: textTokens.slice(0, GREEDY_PROMPT), greedySteps: GREEDY_STEPS };
      const theirs = await peer.probe(path, input, COMPAT_CONTEXT);
      const ours = await probeOurs(path, input, THREADS);
      const maxDifference = maxProbabilityDifference(ours, theirs);
      const base = c.quantizedFrom === undefined ? undefined : f32Runs.get(c.quantizedFrom);
      const quantization = base && { ours: maxProbabilityDifference(ours, base.ours), llamaCpp: maxProbabilityDifference(theirs, base.theirs) };
      let greedyAgreement = 0;
      while (greedyAgreement < GREEDY_STEPS && ours.greedy[greedyAgreement] === theirs.greedy[greedyAgreement]) greedyAgreement++;
      const tokenizationPassed = textCheck.equal && (hard === undefined || hard.unexpected.length === 0);
      const outcome: CaseOutcome = {
        case: c,
        textIdsEqual: textCheck.equal,
        ...(hard && { hardCases: hard }),
        maxProbabilityDifference: maxDifference,
        greedyAgreement,
        greedySteps: GREEDY_STEPS,
        minMarginOurs: Math.min(...ours.greedyMargins),
        minMarginLlamaCpp: Math.min(...theirs.greedyMargins),
        meanTop1: theirs.probabilities.reduce((s, p) => s + maxOf(p), 0) / TEXT_TOKENS,
        ...(quantization && { quantizationEffect: quantization }),
        passed:
          tokenizationPassed &&
          (quantization
            ? maxDifference <= Math.max(quantization.ours, quantization.llamaCpp)
            : maxDifference <= PROBABILITY_TOLERANCE && greedyAgreement === GREEDY_STEPS),
      };
      outcomes.push(outcome);
      if (c.weightType === "f32") {
        // kept only for the quantized cases made from it (two runs of a 151669-id case take 310 MB)
        if (COMPAT_QUANTIZED_CASES.some((q) => q.quantizedFrom === c.id)) f32Runs.set(c.id, { ours, theirs });
        expectations.push(expectationFrom(c.id, sha256, textTokens, textCheck.equal, input.greedyPrompt, theirs));
      }
      const { case: _, ...line } = outcome;
      process.stdout.write(JSON.stringify({ id: c.id, ...line, ...(textCheck.equal ? {} : { textIds: { ours: textCheck.ours.slice(0, 40), llamaCpp: textCheck.theirs.slice(0, 40) } }) }) + "\n");
      rmSync(path);
    }
  } finally {
    await peer.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  if (only.length > 0) {
    process.stderr.write("compat: cases named on the command line: nothing written\n");
    if (outcomes.some((o) => !o.passed)) process.exitCode = 1;
    return;
  }
  const producedBy = `node-llama-cpp ${peer.version} (${install.packages.join(", ")}), CPU, f32 KV cache, no flash attention, ${THREADS} threads`;
  const expectationsFile = { producedBy, command: COMMAND, text: `${COMPAT_TEXT_FILE}, first ${TEXT_TOKENS} tokens`, cases: expectations };
  await writeText(join(root, EXPECTATIONS_PATH), JSON.stringify(expectationsFile) + "\n");
  // rows written by hand below KEPT_MARKER (the K-quant compatCheck runs) survive regeneration
  const previous = existsSync(join(root, REPORT_PATH)) ? readFileSync(join(root, REPORT_PATH), "utf8") : "";
  const kept = previous.includes(KEPT_MARKER) ? "\n" + previous.slice(previous.indexOf(KEPT_MARKER)) : "";
  await writeText(join(root, REPORT_PATH), compatibilityMarkdown(outcomes, { producedBy, command: COMMAND, textFile: COMPAT_TEXT_FILE, textTokens: TEXT_TOKENS, textChars: COMPAT_TEXT_CHARS, greedyPrompt: GREEDY_PROMPT }) + kept);
  process.stderr.write(`compat: wrote ${REPORT_PATH} and ${EXPECTATIONS_PATH}\n`);
  if (outcomes.some((o) => !o.passed)) process.exitCode = 1;
}

/** Largest |p - q| over every position and vocabulary entry of two runs on the same tokens. */
function maxProbabilityDifference(a: ProbeResult, b: ProbeResult): number {
  let max = 0;
  a.probabilities.forEach((row, t) => {
    const other = b.probabilities[t]!;
    for (let i = 0; i < row.length; i++) max = Math.max(max, Math.abs(row[i]! - other[i]!));
  });
  return max;
}

async function writeText(path: string, text: string): Promise<void> {
  await AtomicFileWriter.writeFile(path, (writer) => writer.write(new TextEncoder().encode(text)));
}

main().catch((error: unknown) => {
  process.stderr.write(`compat: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
