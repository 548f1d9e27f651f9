/**
 * Writes test/fixtures/tokenizer/llama-cpp-tokens.json: llama.cpp's own tokenization of every hard case, for each
 * reference byte-level BPE vocabulary, with special-token parsing off ("plain") and on ("special"). Each vocabulary
 * goes into a tiny random-weight llama GGUF (written by this project's converter and GGUF writer), which
 * node-llama-cpp loads; `model.tokenize(text, specialTokens)` is llama.cpp's common_tokenize without BOS/EOS.
 * node-llama-cpp is installed on demand outside the project (bench/peer/peerInstall.ts), never a dependency.
 *
 *   npm run build && node dist/src/bench/tokenizer/llamaCppTokens.js
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSyntheticLlamaGguf } from "../../format/syntheticModel.js";
import { importLlamaCpp } from "../peer/llamaCppApi.js";
import { ensurePeerInstalled, peerDirectory, PEER_PACKAGE, PEER_VERSION } from "../peer/peerInstall.js";
import { LLAMA_CPP_TOKENS_FILE, readHardCases, type LlamaCppTokens } from "./hardCases.js";
import { convertReference, readReferenceFiles, REFERENCE_VOCABULARIES, type ReferenceVocabularyName } from "./referenceVocabularies.js";

const COMMAND = "npm run build && node dist/src/bench/tokenizer/llamaCppTokens.js";

/** The slice of node-llama-cpp's API used here (see bench/peer/llamaCppApi.ts for the rest). */
interface TokenizingLlama {
  loadModel(options: { modelPath: string; gpuLayers: 0; useMmap: true }): Promise<{
    tokenize(text: string, specialTokens: boolean): number[];
    dispose(): Promise<void>;
  }>;
  dispose(): Promise<void>;
}

/** A shape just large enough for llama.cpp to load; the weights are never run. */
function tinyShape(vocabSize: number) {
  return { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize, seqLen: 256 };
}

async function main(): Promise<void> {
  const root = fileURLToPath(new URL("../../../../", import.meta.url));
  const cases = readHardCases(root);
  const peerDir = peerDirectory();
  ensurePeerInstalled(peerDir);
  const peer = await importLlamaCpp(peerDir);
  const llama = (await peer.module.getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    logLevel: "info",
    logger: () => {},
    maxThreads: 1,
  })) as unknown as TokenizingLlama;
  const dir = mkdtempSync(join(tmpdir(), "qaq-llamacpp-tokens-"));
  const vocabularies: Partial<Record<ReferenceVocabularyName, { name: string; plain: number[]; special: number[] }[]>> = {};
  try {
    for (const name of REFERENCE_VOCABULARIES) {
      const converted = convertReference(readReferenceFiles(root, name));
      const path = join(dir, `${name}.gguf`);
      await writeSyntheticLlamaGguf(path, tinyShape(converted.vocabSize), "q8_0", 1, converted.entries);
      const model = await llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: true });
      vocabularies[name] = cases.map(({ name: caseName, text }) => ({
        name: caseName,
        plain: [...model.tokenize(text, false)],
        special: [...model.tokenize(text, true)],
      }));
      await model.dispose();
      process.stderr.write(`${name}: ${cases.length} cases tokenized by llama.cpp\n`);
    }
  } finally {
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const out: LlamaCppTokens = { command: COMMAND, peer: `${PEER_PACKAGE}@${PEER_VERSION} (${peer.version})`, vocabularies };
  writeFileSync(join(root, LLAMA_CPP_TOKENS_FILE), `${JSON.stringify(out)}\n`);
  process.stderr.write(`wrote ${LLAMA_CPP_TOKENS_FILE}\n`);
}

await main();
