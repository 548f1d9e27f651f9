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
 * The same for quantized weights (q8_0, the K-quants, the q4_k_m mix; compatCases.ts) of one case per architecture
 * and for the trained student64 converted to each (trainedCases.ts), with the quantization's own effect reported.
 * Writes one JSON line per case on stdout, docs/COMPATIBILITY.md, and test/compat/llamacpp-expectations.json (what
 * the test that runs without llama.cpp checks). Exits 1 when a case fails. `npm run compat -- TEXT` runs only the
 * cases whose id contains TEXT (and their f32 bases) and writes no files.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  type CompatCase,
} from "./compatCases.js";
import { STUDENT64_FILES, TRAINED_CASES, trainedModelPresent, writeTrainedModel } from "./trainedCases.js";
import type { WeightRecipe } from "../../format/weightRecipe.js";
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

/** One file the check runs: a seeded random-weight case or a converted trained model. */
interface Target {
  readonly id: string;
  readonly weightType: WeightRecipe;
  readonly quantizedFrom?: string;
  /** the random-weight case (its shape and options fill the f32 table) */
  readonly compatCase?: CompatCase;
  write(dir: string): Promise<string>;
}

function targets(): Target[] {
  const random = [...COMPAT_CASES, ...COMPAT_QUANTIZED_CASES].map((c): Target => ({
    id: c.id, weightType: c.weightType, ...(c.quantizedFrom !== undefined && { quantizedFrom: c.quantizedFrom }), compatCase: c,
    async write(dir) {
      const path = join(dir, `${c.id}.gguf`);
      await writeCompatModel(path, c);
      return path;
    },
  }));
  if (!trainedModelPresent(root)) {
    process.stderr.write(`compat: ${STUDENT64_FILES.checkpoint} not found, the student64 cases are skipped\n`);
    return random;
  }
  const trained = TRAINED_CASES.map((c): Target => ({ ...c, write: (dir) => writeTrainedModel(root, dir, c) }));
  return [...random, ...trained];
}

async function main(): Promise<void> {
  const textPath = join(root, COMPAT_TEXT_FILE);
  let text: string;
  try {
    text = readFileSync(textPath, "utf8").slice(0, COMPAT_TEXT_CHARS);
  } catch (error) {
    throw new FileFormatError(textPath, `cannot read the text (${error instanceof Error ? error.message : String(error)})`);
  }
  const hardCases = readHardCases(root);
  const only = process.argv.slice(2); // optional: run only the cases whose id contains one of these (no files written)
  const install = ensurePeerInstalled(peerDirectory());
  const peer = await openLlamaCpp(install.dir, THREADS);
  const dir = mkdtempSync(join(tmpdir(), "qaq-compat-"));
  const outcomes: CaseOutcome[] = [];
  const expectations: CaseExpectation[] = [];
  const f32Runs = new Map<string, { ours: ProbeResult; theirs: ProbeResult }>();
  try {
    const all = targets();
    const chosen = all.filter((t) => only.length === 0 || only.some((o) => t.id.includes(o)));
    const needed = new Set([...chosen.map((t) => t.id), ...chosen.flatMap((t) => (t.quantizedFrom === undefined ? [] : [t.quantizedFrom]))]);
    for (const target of all.filter((t) => needed.has(t.id))) {
      const c = target.compatCase;
      const path = await target.write(dir);
      const sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
      const file = await loadModelFile(path);
      const tokenizer = tokenizerFromGgufVocabulary(file.vocabulary!, path);
      const textCheck = await textAgreement(peer, path, tokenizer, text);
      const hard = c !== undefined && isRealVocabulary(c.vocabulary) ? await hardCaseAgreement(peer, path, tokenizer, c.vocabulary, hardCases) : undefined;
      // our ids, with BOS when the model's tokenizer adds it (SentencePiece, Llama 3; not Qwen)
      const textTokens = [...tokenizer.encode(text, { addEos: false })].slice(0, TEXT_TOKENS);
      if (textTokens.length < TEXT_TOKENS) throw new FileFormatError(textPath, `gives only ${textTokens.length} tokens with ${target.id}'s vocabulary`);
      const input = { textTokens, greedyPrompt: textTokens.slice(0, GREEDY_PROMPT), greedySteps: GREEDY_STEPS };
      const theirs = await peer.probe(path, input, COMPAT_CONTEXT);
      const ours = await probeOurs(path, input, THREADS);
      const maxDifference = maxProbabilityDifference(ours, theirs);
      const base = target.quantizedFrom === undefined ? undefined : f32Runs.get(target.quantizedFrom);
      const quantization = base && { ours: maxProbabilityDifference(ours, base.ours), llamaCpp: maxProbabilityDifference(theirs, base.theirs) };
      let greedyAgreement = 0;
      while (greedyAgreement < GREEDY_STEPS && ours.greedy[greedyAgreement] === theirs.greedy[greedyAgreement]) greedyAgreement++;
      const tokenizationPassed = textCheck.equal && (hard === undefined || hard.unexpected.length === 0);
      const outcome: CaseOutcome = {
        id: target.id,
        weightType: target.weightType,
        ...(c !== undefined && { case: c }),
        textIdsEqual: textCheck.equal,
        ...(hard && { hardCases: hard }),
        maxProbabilityDifference: maxDifference,
        greedyAgreement,
        greedySteps: GREEDY_STEPS,
        minMarginOurs: Math.min(...ours.greedyMargins),
        minMarginLlamaCpp: Math.min(...theirs.greedyMargins),
        meanTop1: theirs.probabilities.reduce((s, p) => s + maxOf(p), 0) / TEXT_TOKENS,
        ...(quantization && { quantizationEffect: quantization }),
        passed: tokenizationPassed && maxDifference <= PROBABILITY_TOLERANCE && greedyAgreement === GREEDY_STEPS,
      };
      outcomes.push(outcome);
      // kept only for the quantized cases made from it (two runs of a 151669-id case take 310 MB)
      if (target.weightType === "f32" && all.some((q) => q.quantizedFrom === target.id)) f32Runs.set(target.id, { ours, theirs });
      expectations.push(
        expectationFrom(target.id, sha256, textTokens, textCheck.equal, input.greedyPrompt, theirs, { maxProbabilityDifference: maxDifference, greedyAgreement }),
      );
      const { case: _, ...line } = outcome;
      process.stdout.write(JSON.stringify({ ...line, ...(textCheck.equal ? {} : { textIds: { ours: textCheck.ours.slice(0, 40), llamaCpp: textCheck.theirs.slice(0, 40) } }) }) + "\n");
      if (target.weightType !== "f32" || target.compatCase !== undefined) rmSync(path);
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
  await writeText(join(root, REPORT_PATH), compatibilityMarkdown(outcomes, { producedBy, command: COMMAND, textFile: COMPAT_TEXT_FILE, textTokens: TEXT_TOKENS, textChars: COMPAT_TEXT_CHARS, greedyPrompt: GREEDY_PROMPT }));
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
