/**
 * Runs a GGUF through this engine for the compatibility check: the model file, weights and forward pass as the
 * Engine builds them, but no tokenizer (token ids come from the check), an fp32 KV cache (the reference cache).
 * `adjust` lets a test change the config, to show that a wrong option is caught.
 */
import { Compute } from "../../kernels/Compute.js";
import { loadModelFile } from "../../format/modelFile.js";
import { loadWeights, freeWeights } from "../../model/weights.js";
import { createForwardState, freeForwardState } from "../../model/state.js";
import { LlamaModel } from "../../model/llama.js";
import type { ModelConfig } from "../../model/config.js";
import { createCache } from "../../cache/createCache.js";
import { softmax64, topTwo, type ProbeInput, type ProbeResult } from "./probe.js";

export async function probeOurs(
  path: string,
  input: ProbeInput,
  threads: number,
  adjust: (config: ModelConfig) => ModelConfig = (c) => c,
): Promise<ProbeResult> {
  const compute = await Compute.create(threads);
  try {
    const file = await loadModelFile(path);
    const config = adjust(file.config);
    const weights = loadWeights(compute, file);
    const state = createForwardState(compute, config);
    const model = new LlamaModel(config, compute, weights, state);
    const newCache = () => createCache(compute, { nLayers: config.nLayers, nKvHeads: config.nKvHeads, headDim: config.headDim, maxTokens: config.seqLen }, { kind: "fp32" });
    try {
      const { vocabSize } = config;
      let cache = newCache();
      // [n, vocab] logits of every position of the text
      const all = model.forward(Int32Array.from(input.textTokens), 0, cache, "all");
      const probabilities = input.textTokens.map((_, t) => softmax64(all.subarray(t * vocabSize, (t + 1) * vocabSize)));
      cache.dispose();

      cache = newCache();
      const greedy: number[] = [];
      const greedyMargins: number[] = [];
      let logits = model.forward(Int32Array.from(input.greedyPrompt), 0, cache, "last");
      for (let step = 0; step < input.greedySteps; step++) {
        const { best, margin } = topTwo(logits);
        greedy.push(best);
        greedyMargins.push(margin);
        if (step + 1 < input.greedySteps) logits = model.forward(Int32Array.of(best), input.greedyPrompt.length + step, cache, "last");
      }
      cache.dispose();
      return { probabilities, greedy, greedyMargins };
    } finally {
      freeForwardState(compute, state);
      freeWeights(compute, weights);
    }
  } finally {
    compute.dispose();
  }
}
