/**
 * Runs a GGUF through llama.cpp (node-llama-cpp, installed on demand outside the project by peerInstall.ts) for the
 * compatibility check: CPU, the prebuilt binary, an f32 KV cache and no flash attention (its f16 accumulations would
 * be llama.cpp's rounding, not the model's), raw logits of every position read back through controlledEvaluate.
 */
import { importLlamaCpp, type ControlledInput, type Llama, type LlamaModel } from "../peer/llamaCppApi.js";
import { UnsupportedError } from "../../util/errors.js";
import { softmax64, topTwo, type ProbeInput, type ProbeResult } from "./probe.js";

/** Text positions evaluated per controlledEvaluate call (their logits come back together). */
const TEXT_SLICE = 16;

export interface LlamaCppSession {
  readonly version: string;
  /** llama.cpp's tokenization of each text (no BOS), with special-token parsing on or off. */
  tokenize(path: string, texts: readonly string[], specialTokens: boolean): Promise<number[][]>;
  probe(path: string, input: ProbeInput, contextSize: number): Promise<ProbeResult>;
  dispose(): Promise<void>;
}

export async function openLlamaCpp(peerDir: string, threads: number): Promise<LlamaCppSession> {
  const peer = await importLlamaCpp(peerDir);
  const errors: string[] = [];
  const llama: Llama = await peer.module.getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    logLevel: "info",
    logger: (level, message) => {
      if (level === "error" || level === "fatal") errors.push(message.trim());
    },
    maxThreads: threads,
  });
  const load = async (path: string): Promise<LlamaModel> =>
    llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: true }).catch((error: unknown) => {
      throw new UnsupportedError(`llama.cpp could not load ${path}: ${errors.at(-1) ?? String(error)}`);
    });
  return {
    version: peer.version,
    async tokenize(path, texts, specialTokens) {
      const model = await load(path);
      try {
        return texts.map((text) => Array.from(model.tokenize(text, specialTokens)));
      } finally {
        await model.dispose();
      }
    },
    async probe(path, input, contextSize) {
      const model = await load(path);
      try {
        const context = await model.createContext({
          contextSize,
          threads: { ideal: threads, min: threads },
          flashAttention: false,
          experimentalKvCacheKeyType: "F32",
          experimentalKvCacheValueType: "F32",
          performanceTracking: true,
          failedCreationRemedy: false,
          ignoreMemorySafetyChecks: true,
        });
        try {
          const vocabSize = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
          const sequence = context.getSequence();
          // in slices, each turned into probability rows at once: node-llama-cpp returns a Map of every id's logit
          // per position, which for 256 positions of a 151669-id vocabulary would hold some 39M entries
          const probabilities: Float32Array[] = [];
          for (let start = 0; start < input.textTokens.length; start += TEXT_SLICE) {
            const slice = input.textTokens.slice(start, start + TEXT_SLICE);
            const withLogits: ControlledInput[] = slice.map((t) => [t, { generateNext: { logits: true } }]);
            const outputs = await sequence.controlledEvaluate(withLogits);
            outputs.forEach((o, i) => probabilities.push(softmax64(denseLogits(o?.next?.logits, vocabSize, `text position ${start + i}`))));
          }

          await sequence.clearHistory();
          const greedy: number[] = [];
          const greedyMargins: number[] = [];
          let feed: number[] = [...input.greedyPrompt];
          for (let step = 0; step < input.greedySteps; step++) {
            const batch: ControlledInput[] = feed.slice(0, -1);
            batch.push([feed.at(-1)!, { generateNext: { token: true, logits: true, options: { temperature: 0 } } }]);
            const next = (await sequence.controlledEvaluate(batch)).at(-1)?.next;
            const logits = denseLogits(next?.logits, vocabSize, `greedy step ${step}`);
            const { best, margin } = topTwo(logits);
            const token = next?.token;
            if (token !== best) throw new UnsupportedError(`llama.cpp's greedy token ${token} at step ${step} is not the argmax ${best} of its logits`);
            greedy.push(best);
            greedyMargins.push(margin);
            feed = [best];
          }
          return { probabilities, greedy, greedyMargins };
        } finally {
          await context.dispose();
        }
      } finally {
        await model.dispose();
      }
    },
    dispose: () => llama.dispose(),
  };
}

/** A logits map from node-llama-cpp as a dense [vocab] array; every id must be present. */
function denseLogits(map: ReadonlyMap<number, number> | undefined, vocabSize: number, where: string): Float64Array {
  if (map === undefined || map.size !== vocabSize) {
    throw new UnsupportedError(`llama.cpp returned ${map?.size ?? "no"} logits at ${where}, expected ${vocabSize}`);
  }
  const out = new Float64Array(vocabSize);
  for (const [id, logit] of map) out[id] = logit;
  return out;
}
